from django import forms
from django.shortcuts import get_object_or_404, redirect, render

from .models import Comment, Page


class CommentForm(forms.ModelForm):
    class Meta:
        model = Comment
        fields = ["name", "text"]


def page_list(request):
    pages = Page.objects.filter(published=True).select_related("author")
    return render(request, "pages/page_list.html", {"pages": pages})


def page_detail(request, slug):
    page = get_object_or_404(Page.objects.select_related("author"), slug=slug, published=True)
    form = CommentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.instance.page = page
        form.save()
        return redirect("page-detail", slug=slug)  # Post/Redirect/Get: a 302 back to this page
    context = {"page": page, "comments": page.comments.order_by("id"), "form": form}
    return render(request, "pages/page_detail.html", context)
