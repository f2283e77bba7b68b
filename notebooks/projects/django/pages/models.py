from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)

    def __str__(self):
        return self.name


class Page(models.Model):
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="pages")
    title = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)  # the page's address: /pages/<slug>/
    body = models.TextField()
    published = models.BooleanField(default=False)

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title


class Comment(models.Model):
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="comments")
    name = models.CharField(max_length=60)
    text = models.TextField(max_length=1000)
