from django.urls import path

from rathaus.public import views

app_name = "public"
urlpatterns = [
    path("", views.home, name="home"),
    path("themen/<slug:slug>/", views.pillar, name="pillar"),
    path("<slug:slug>/", views.legal, name="legal"),
]
