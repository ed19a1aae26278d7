from django.urls import path

from rathaus.forms import staff

app_name = "forms_staff"
urlpatterns = [
    path("", staff.form_list, name="list"),
    path("import/", staff.fim_upload, name="upload"),
    path("<slug:slug>/entwurf/", staff.draft_edit, name="edit"),
    path("<slug:slug>/vorschau/<int:number>/", staff.draft_preview, name="preview"),
    path("<slug:slug>/veroeffentlichen/", staff.draft_publish, name="publish"),
]
