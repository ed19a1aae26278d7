from django.urls import path

from rathaus.submissions import views

app_name = "submissions"
urlpatterns = [
    path("absenden/<slug:slug>/", views.form_submit, name="submit"),
    path("status/", views.lookup, name="lookup"),
    path("meine/", views.my_submissions, name="mine"),
    path("meine/daten.zip", views.my_data, name="my_data"),
    path("meine/<str:reference>/", views.my_status, name="my_status"),
    path("meine/<str:reference>/eingangsbestaetigung.pdf", views.my_receipt, name="my_receipt"),
    path("meine/<str:reference>/formular.pdf", views.my_official_form, name="my_official_form"),
    path(
        "meine/<str:reference>/dokumente/<int:document_id>/",
        views.my_document,
        name="my_document",
    ),
    path("<str:reference>/eingegangen/", views.confirmation, name="confirmation"),
    path("<str:reference>/status/<str:code>/", views.status, name="status"),
    path(
        "<str:reference>/status/<str:code>/eingangsbestaetigung.pdf",
        views.receipt,
        name="receipt",
    ),
    path(
        "<str:reference>/status/<str:code>/dokumente/<int:document_id>/",
        views.document,
        name="document",
    ),
    path(
        "<str:reference>/status/<str:code>/formular.pdf",
        views.official_form,
        name="official_form",
    ),
]
