"""The roles every company starts with, as permission codenames ("app.action_model").

Later capabilities add their own permissions here; a company may edit these roles or add its own.
"""

REGISTER_MODELS = {
    "estate": ["company", "propertytype", "project", "building", "entrance", "unit", "parkingspace"],
    "customers": ["customer", "occupancy", "vehicle"],
}


def _perms(actions, models_by_app=None):
    models_by_app = models_by_app or REGISTER_MODELS
    return [f"{app}.{action}_{model}" for app, models in models_by_app.items() for model in models
            for action in actions]


BILLING_SETUP = {"billing": ["feeitem", "chargerule", "ruleprice", "rulebinding", "discountscheme", "billrunschedule"]}
BILLING = [*_perms(["view", "add", "change"], BILLING_SETUP),
           "billing.view_billrun", "billing.add_billrun", "billing.view_bill", "billing.add_bill",
           "billing.export_bill", "billing.view_waiver", "billing.view_billvoid", "billing.view_billdiscount",
           "billing.view_journalentry"]
VIEW_BILLS = ["billing.view_bill", "billing.view_feeitem", "billing.view_chargerule", "billing.view_discountscheme",
              "billing.add_approvalrequest"]
# 临时收费 and 预缴账单 are raised at the cashier's desk.
RAISE_BILLS = ["billing.add_bill"]
# 收银台: collecting payments and deposits, reading prepaid balances and corrections, closing one's shift;
# skipping an earlier bill is a finance right, and so is editing receipt templates.
PAYMENTS = ["billing.view_payment", "billing.add_payment", "billing.view_prepaidaccount", "billing.view_deposit",
            "billing.add_deposit", "billing.view_paymentreversal", "billing.view_shiftclose",
            "billing.add_shiftclose", "billing.view_receipttemplate", "billing.view_printerprofile"]
PAYMENT_OVERRIDE = ["billing.override_payment_order"]
RECEIPT_SETUP = ["billing.add_receipttemplate", "billing.change_receipttemplate", "billing.delete_receipttemplate",
                 "billing.add_printerprofile", "billing.change_printerprofile", "billing.delete_printerprofile"]
# Finance rights beyond the desk: every cashier's 日结, and bringing in an old system's bills and payments.
SHIFT_OVERSIGHT = ["billing.view_all_shifts"]
BILL_IMPORT = ["billing.import_bills"]
APPROVALS = ["billing.add_approvalrequest", "billing.view_approvalrequest", "billing.view_approvalflow",
             "billing.view_approvallevel"]
APPROVAL_SETUP = ["billing.add_approvalflow", "billing.change_approvalflow", "billing.add_approvallevel",
                  "billing.change_approvallevel", "billing.delete_approvallevel"]
# 抄表: finance keeps the meter register; stewards and technicians read meters door to door.
METERS = ["meters.view_meter", "meters.add_meter", "meters.change_meter", "meters.view_meterreading",
          "meters.add_meterreading"]
READ_METERS = ["meters.view_meter", "meters.view_meterreading", "meters.add_meterreading"]
# 复核 flagged readings, correct or withdraw a meter's latest reading: finance, and stewards who read the meters.
REVIEW_READINGS = ["meters.change_meterreading", "meters.delete_meterreading"]
# 公摊与损耗: finance sets the rules, previews, posts and reverses runs; stewards answer owners' questions.
ALLOCATION = ["meters.view_allocationrule", "meters.add_allocationrule", "meters.change_allocationrule",
              "meters.view_allocationrun", "meters.add_allocationrun", "meters.change_allocationrun",
              "meters.export_allocationrun"]
READ_ALLOCATION = ["meters.view_allocationrule", "meters.view_allocationrun"]
# 线上支付: finance follows online orders (查单, export, 重新退款); cashiers see them; admins keep merchant accounts.
ONLINE_PAYMENTS = ["payments.view_paymentorder", "payments.query_paymentorder", "payments.export_paymentorder",
                   "payments.view_gatewayrefund", "payments.change_gatewayrefund", "payments.view_gatewayconfig"]
VIEW_ONLINE_PAYMENTS = ["payments.view_paymentorder"]
ONLINE_PAYMENT_SETUP = ["payments.add_gatewayconfig", "payments.change_gatewayconfig"]
NOTIFICATIONS = ["notifications.view_message", "notifications.change_message", "notifications.view_messagetemplate",
                 "notifications.add_messagetemplate", "notifications.change_messagetemplate",
                 "notifications.view_smsproviderconfig", "notifications.change_smsproviderconfig"]

VIEW_REGISTER = _perms(["view"])
EDIT_REGISTER = _perms(["add", "change"])
EXTRA = {
    "pii": ["customers.view_customer_pii"],
    "export": ["estate.export_unit", "customers.export_customer"],
    "import": ["estate.import_unit"],
    "changelog": ["extras.view_objectchange"],
    "staff": ["users.view_user", "users.add_user", "users.change_user",
              "users.view_role", "users.add_role", "users.change_role", "users.delete_role"],
    "customfields": ["extras.view_customfield", "extras.add_customfield", "extras.change_customfield",
                     "extras.delete_customfield"],
    "audit": ["extras.view_auditevent"],
}

SYSTEM_ROLES = [
    ("admin", "管理员", "企业管理员：全部权限", None),
    ("finance", "财务", "收费设置、账单、报表",
     VIEW_REGISTER + EXTRA["export"] + EXTRA["changelog"] + EXTRA["pii"] + BILLING + APPROVALS
     + PAYMENTS + PAYMENT_OVERRIDE + RECEIPT_SETUP + SHIFT_OVERSIGHT + BILL_IMPORT + METERS
     + REVIEW_READINGS + ALLOCATION + ONLINE_PAYMENTS + ["notifications.view_message"]),
    ("cashier", "收银员", "收银台收费、打印收据",
     VIEW_REGISTER + VIEW_BILLS + RAISE_BILLS + PAYMENTS + VIEW_ONLINE_PAYMENTS),
    ("service", "客服", "报事报修、投诉建议、客户档案",
     VIEW_REGISTER + _perms(["add", "change"], {"customers": ["customer", "occupancy", "vehicle"]})
     + EXTRA["changelog"]),
    ("steward", "管家", "楼宇管家：住户档案、上门收费",
     VIEW_REGISTER + _perms(["add", "change"], {"customers": ["customer", "occupancy", "vehicle"]})
     + EXTRA["pii"] + VIEW_BILLS + READ_METERS + REVIEW_READINGS + READ_ALLOCATION),
    ("technician", "维修工", "维修工单",
     _perms(["view"], {"estate": ["project", "building", "entrance", "unit"]}) + READ_METERS),
    ("guard", "保安", "巡更、访客、车辆", _perms(["view"], {"estate": ["project", "parkingspace"],
                                                       "customers": ["vehicle"]})),
]
ADMIN_ROLE_PERMS = (VIEW_REGISTER + EDIT_REGISTER + _perms(["delete"]) + [p for perms in EXTRA.values() for p in perms]
                    + BILLING + NOTIFICATIONS + APPROVALS + APPROVAL_SETUP + PAYMENTS + PAYMENT_OVERRIDE
                    + RECEIPT_SETUP + SHIFT_OVERSIGHT + BILL_IMPORT + METERS + REVIEW_READINGS + ALLOCATION
                    + ["meters.delete_allocationrule"] + ONLINE_PAYMENTS + ONLINE_PAYMENT_SETUP)
