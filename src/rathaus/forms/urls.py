from django.urls import path

from rathaus.forms import views

app_name = "forms"
urlpatterns = [
    path("<slug:slug>/", views.form_start, name="start"),
    path("<slug:slug>/beginnen/", views.form_begin, name="begin"),
    path("<slug:slug>/schritt/<int:number>/", views.form_step, name="step"),
    path("<slug:slug>/pruefen/", views.form_summary, name="summary"),
]
