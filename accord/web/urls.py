from django.contrib.auth import views as auth_views
from django.urls import path

from accord.web import accounts, board, lists, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            template_name="web/password_change.html", success_url="/password/done/"
        ),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="web/password_change_done.html"),
        name="password_change_done",
    ),
    path("search/", views.search, name="search"),
    path("accounts/", accounts.account_list_view, name="account_list"),
    path("accounts/export.csv", accounts.account_export, name="account_export"),
    path("accounts/new/", accounts.account_new, name="account_new"),
    path("accounts/<uuid:pk>/", accounts.account_detail, name="account_detail"),
    path("accounts/<uuid:pk>/edit/", accounts.account_edit, name="account_edit"),
    path("accounts/<uuid:pk>/log/", accounts.account_quick_log, name="account_quick_log"),
    path("accounts/<uuid:pk>/contacts/new/", accounts.contact_new, name="contact_new"),
    path("accounts/<uuid:pk>/opportunities/new/", accounts.opportunity_new, name="opportunity_new"),
    path("contacts/", lists.contacts, name="contact_list"),
    path("leads/", lists.leads, name="lead_list"),
    path("opportunities/", lists.opportunities, name="opportunity_list"),
    path("activities/", lists.activities, name="activity_list"),
    path("pipeline/", board.board, name="board"),
    path("opportunities/<uuid:pk>/move/", board.move, name="opportunity_move"),
    path("contacts/<uuid:pk>/edit/", accounts.contact_edit, name="contact_edit"),
    path("opportunities/<uuid:pk>/edit/", accounts.opportunity_edit, name="opportunity_edit"),
]
