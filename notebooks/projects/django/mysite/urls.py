from django.contrib import admin
from django.urls import path

from pages import views

urlpatterns = [
    path("", views.page_list, name="page-list"),
    path("pages/<slug:slug>/", views.page_detail, name="page-detail"),
    path("admin/", admin.site.urls),
]
