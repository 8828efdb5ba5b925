from django.dispatch import Signal

# Sent inside company_create's transaction; higher apps install the company's defaults (roles, flows).
company_created = Signal()
