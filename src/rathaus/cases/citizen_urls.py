"""The citizen's side of a case's mailbox, under /antraege/ beside the status page."""

from django.urls import path

from rathaus.cases import views

app_name = "cases_citizen"
urlpatterns = [
    path("meine/<str:reference>/nachrichten/", views.my_mailbox, name="my_mailbox"),
    path("<str:reference>/status/<str:code>/nachrichten/", views.mailbox, name="mailbox"),
]
