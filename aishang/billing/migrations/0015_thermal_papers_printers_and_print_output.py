"""Thermal rolls (58/80 mm) as papers, printer profiles with their offsets, and each print saying whether it was
printed or downloaded and with which printer's offset (ADR 0018).

Printer profiles are part of the receipt setup: every role of an existing company that may see receipt templates
may see printers, and every role that may change templates may add, change and delete printers (as ``users.roles``
gives new companies). Prints recorded before keep an empty ``output``: how they left is not known.
"""

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from aishang.billing.migration_helpers import billing_permissions

# permission on receipt templates a role holds: the printer permissions it is given
GIVEN = {
    "view_receipttemplate": ["view_printerprofile"],
    "change_receipttemplate": ["add_printerprofile", "change_printerprofile", "delete_printerprofile"],
}


def add_permissions(apps, schema_editor):
    billing = billing_permissions(apps)
    role_model = apps.get_model("users", "Role")
    for held, given in GIVEN.items():
        permissions = list(billing.filter(codename__in=given))
        for role in role_model.objects.filter(permissions__in=billing.filter(codename=held)).distinct():
            role.permissions.add(*permissions)


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0014_view_all_shifts_and_import_bills'),
        ('estate', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("users", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.CreateModel(
            name='PrinterProfile',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='创建时间')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='更新时间')),
                ('name', models.CharField(help_text='如 前台针式打印机', max_length=60, verbose_name='名称')),
                ('offset_x', models.DecimalField(decimal_places=1, default=Decimal('0'), error_messages={'invalid': '请输入毫米数，如 1.5 或 -2', 'max_decimal_places': '偏移最多保留 1 位小数', 'max_digits': '偏移应在 -20 到 20 毫米之间', 'max_value': '偏移应在 -20 到 20 毫米之间', 'max_whole_digits': '偏移应在 -20 到 20 毫米之间', 'min_value': '偏移应在 -20 到 20 毫米之间'}, help_text='正数向右移，负数向左移', max_digits=4, validators=[django.core.validators.MinValueValidator(-20, '偏移应在 -20 到 20 毫米之间'), django.core.validators.MaxValueValidator(20, '偏移应在 -20 到 20 毫米之间')], verbose_name='水平偏移（毫米）')),
                ('offset_y', models.DecimalField(decimal_places=1, default=Decimal('0'), error_messages={'invalid': '请输入毫米数，如 1.5 或 -2', 'max_decimal_places': '偏移最多保留 1 位小数', 'max_digits': '偏移应在 -20 到 20 毫米之间', 'max_value': '偏移应在 -20 到 20 毫米之间', 'max_whole_digits': '偏移应在 -20 到 20 毫米之间', 'min_value': '偏移应在 -20 到 20 毫米之间'}, help_text='正数向下移，负数向上移', max_digits=4, validators=[django.core.validators.MinValueValidator(-20, '偏移应在 -20 到 20 毫米之间'), django.core.validators.MaxValueValidator(20, '偏移应在 -20 到 20 毫米之间')], verbose_name='垂直偏移（毫米）')),
                ('note', models.CharField(blank=True, max_length=200, verbose_name='备注')),
            ],
            options={
                'verbose_name': '打印机',
                'verbose_name_plural': '打印机',
                'ordering': ['company', 'name'],
            },
        ),
        migrations.AddField(
            model_name='receiptprint',
            name='offset_x',
            field=models.DecimalField(decimal_places=1, default=Decimal('0'), max_digits=4, verbose_name='水平偏移（毫米）'),
        ),
        migrations.AddField(
            model_name='receiptprint',
            name='offset_y',
            field=models.DecimalField(decimal_places=1, default=Decimal('0'), max_digits=4, verbose_name='垂直偏移（毫米）'),
        ),
        migrations.AddField(
            model_name='receiptprint',
            name='output',
            field=models.CharField(blank=True, choices=[('print', '打印'), ('pdf', '下载 PDF')], max_length=10, verbose_name='方式'),
        ),
        migrations.AddField(
            model_name='receiptprint',
            name='printer_name',
            field=models.CharField(blank=True, max_length=60, verbose_name='打印机'),
        ),
        migrations.AlterField(
            model_name='receipttemplate',
            name='paper',
            field=models.CharField(choices=[('a4', 'A4 纵向'), ('a5', 'A5 横向'), ('241x93', '241×93 毫米（针式三等分）'), ('241x140', '241×140 毫米（针式二等分）'), ('roll58', '58 毫米热敏小票'), ('roll80', '80 毫米热敏小票')], default='a5', max_length=20, verbose_name='纸张'),
        ),
        migrations.AddIndex(
            model_name='receiptprint',
            index=models.Index(fields=['printed_by', '-id'], name='receipt_print_by_latest'),
        ),
        migrations.AddField(
            model_name='printerprofile',
            name='company',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='printer_profiles', to='estate.company'),
        ),
        migrations.AddConstraint(
            model_name='printerprofile',
            constraint=models.UniqueConstraint(fields=('company', 'name'), name='printer_profile_unique_name'),
        ),
        migrations.AddConstraint(
            model_name='printerprofile',
            constraint=models.CheckConstraint(condition=models.Q(('offset_x__gte', -20), ('offset_x__lte', 20), ('offset_y__gte', -20), ('offset_y__lte', 20)), name='printer_profile_offset_in_bounds'),
        ),
        migrations.RunPython(add_permissions, migrations.RunPython.noop),
    ]
