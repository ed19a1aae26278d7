from django.urls import path

from rathaus.forms import views

app_name = "forms"
urlpatterns = [
    path("", views.form_index, name="index"),
    path("strassen/", views.street_suggestions, name="streets"),
    path("orte/", views.place_lookup, name="places"),
    path("<slug:slug>/", views.form_start, name="start"),
    path("<slug:slug>/beginnen/", views.form_begin, name="begin"),
    path("<slug:slug>/schritt/<int:number>/", views.form_step, name="step"),
    path("<slug:slug>/pruefen/", views.form_summary, name="summary"),
    path("<slug:slug>/spaeter/", views.form_resume_request, name="resume_request"),
    path("fortsetzen/<str:token>/", views.form_resume, name="resume"),
    path("entwurf/<int:draft_id>/", views.form_continue_own, name="continue_own"),
]
