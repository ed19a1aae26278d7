from django.urls import path

from rathaus.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.office_list, name="offices"),
    path("statistik/", views.statistics, name="statistics"),
    path("stelle/<int:office_id>/", views.inbox, name="inbox"),
    path("stelle/<int:office_id>/zuweisen/", views.bulk_assign, name="bulk_assign"),
    path("stelle/<int:office_id>/auslastung/", views.workload, name="workload"),
    path("<int:case_id>/", views.case_detail, name="case"),
    path("<int:case_id>/status/", views.case_change_status, name="status"),
    path("<int:case_id>/zuweisung/", views.case_change_assignee, name="assign"),
    path("<int:case_id>/notizen/", views.case_add_note, name="note"),
    path("<int:case_id>/einordnung/", views.case_change_classification, name="classify"),
    path("<int:case_id>/rueckfrage/", views.case_ask, name="ask"),
    path("<int:case_id>/bescheid/", views.case_decision, name="decide"),
    path("<int:case_id>/anlagen/<int:attachment_id>/", views.case_attachment, name="attachment"),
    path("<int:case_id>/eingangsbestaetigung.pdf", views.case_receipt, name="receipt"),
]
