from django.urls import path

from contracts import views

app_name = "contracts"

urlpatterns = [
    path("", views.ContractListView.as_view(), name="contract_list"),
    path("approvals/", views.ApprovalInboxView.as_view(), name="approval_inbox"),
    path("new/", views.ContractCreateView.as_view(), name="contract_create"),
    path("<int:pk>/", views.ContractDetailView.as_view(), name="contract_detail"),
    path("<int:pk>/edit/", views.ContractUpdateView.as_view(), name="contract_update"),
    path("<int:pk>/diff/", views.ContractDiffView.as_view(), name="contract_diff"),
    path("<int:pk>/similar/", views.ContractSimilarView.as_view(), name="contract_similar"),
    path("<int:pk>/submit/", views.ContractSubmitView.as_view(), name="contract_submit"),
    path("<int:pk>/approve/", views.ContractApproveView.as_view(), name="contract_approve"),
    path("<int:pk>/reject/", views.ContractRejectView.as_view(), name="contract_reject"),
    path("<int:pk>/reopen/", views.ContractReopenView.as_view(), name="contract_reopen"),
    path("<int:pk>/cancel/", views.ContractCancelView.as_view(), name="contract_cancel"),
    path("<int:pk>/terminate/", views.ContractTerminateView.as_view(), name="contract_terminate"),
    path("<int:pk>/complete/", views.ContractCompleteView.as_view(), name="contract_complete"),
]

urlpatterns += [
    path("<int:pk>/sign/", views.ContractSignView.as_view(), name="contract_sign"),
    path("<int:pk>/signing-link/", views.SigningLinkSendView.as_view(), name="signing_link_send"),
    path(
        "<int:pk>/signing-link/<int:link_pk>/revoke/",
        views.SigningLinkRevokeView.as_view(),
        name="signing_link_revoke",
    ),
    path("<int:pk>/evidence.zip", views.ContractEvidenceView.as_view(), name="contract_evidence"),
    path("<int:pk>/certificate/", views.ContractCertificateView.as_view(), name="contract_certificate"),
    path("sign/", views.CustomerSignView.as_view(), name="customer_sign_page"),
    path("sign/<str:token>/", views.CustomerSignStartView.as_view(), name="customer_sign"),
    path("verify/", views.VerifyView.as_view(), name="verify"),
]
