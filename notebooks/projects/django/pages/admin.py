from django.contrib import admin

from .models import Author, Comment, Page


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "published"]
    list_filter = ["published", "author"]
    search_fields = ["title", "body"]
    prepopulated_fields = {"slug": ["title"]}  # the add form fills the slug in from the title


admin.site.register(Author)
admin.site.register(Comment)
