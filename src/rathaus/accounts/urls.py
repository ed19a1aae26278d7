from django.urls import path

from rathaus.accounts import views

app_name = "accounts"
urlpatterns = [
    path("anmelden/", views.login_view, name="login"),
    path("anmelden/code/", views.login_2fa_view, name="login_2fa"),
    path("anmelden/link/", views.magic_link_request_view, name="magic_link"),
    path("anmelden/link/<str:token>/", views.magic_link_login_view, name="magic_link_login"),
    path("abmelden/", views.logout_view, name="logout"),
    path("", views.profile_view, name="profile"),
    path("passwort/", views.password_view, name="password"),
    path("zwei-faktor/", views.two_factor_setup_view, name="two_factor_setup"),
    path("einheiten/", views.office_list_view, name="offices"),
    path("einheiten/<int:office_id>/", views.office_detail_view, name="office_detail"),
]
