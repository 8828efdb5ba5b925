"""Who confirmed a flagged reading and when, and the reason of a correction; and the right to review readings
for the built-in roles of companies created before it (as ``users.roles`` gives new companies). A company may have
edited its roles since, so permissions are only added, never taken away."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from aishang.users.migration_helpers import grant_to_system_roles

REVIEW = ["change_meterreading", "delete_meterreading"]
ADDED = {"admin": REVIEW, "finance": REVIEW, "steward": REVIEW}


class Migration(migrations.Migration):

    dependencies = [
        ('meters', '0002_meter_permissions_for_existing_roles'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("users", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AddField(
            model_name='meterreading',
            name='review_note',
            field=models.CharField(blank=True, help_text='更正或撤销的原因', max_length=200, verbose_name='复核说明'),
        ),
        migrations.AddField(
            model_name='meterreading',
            name='reviewed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='复核时间'),
        ),
        migrations.AddField(
            model_name='meterreading',
            name='reviewed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='复核人'),
        ),
        migrations.RunPython(grant_to_system_roles("meters", ADDED), migrations.RunPython.noop),
    ]
