import time
import unicodedata

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import ProtectedError, RestrictedError

from aishang.core.demo import (
    DEMO_COMPANY_NAME,
    DEMO_PASSWORD,
    demo_counts,
    demo_install,
    demo_logins,
    demo_owner_logins,
)


def _width(text):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text, width):
    return text + " " * (width - _width(text))


def logins_table(rows, header=("用户名", "角色", "范围", "密码")):
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip()
                     for row in [header, *rows])


class Command(BaseCommand):
    help = (f"创建演示数据：{DEMO_COMPANY_NAME}（爱尚花园、爱尚商业街、爱尚科技园）、各角色的演示账号，"
            "以及近三个月的出账、收款、欠费、预存和日结。")

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="删除已有的演示企业及其全部数据后重新创建")

    def handle(self, *args, reset=False, **options):
        started = time.monotonic()
        try:
            result = demo_install(reset=reset, activity=True)
        except (ProtectedError, RestrictedError) as exc:
            blocking = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", ())
            names = sorted({str(obj._meta.verbose_name) for obj in blocking})
            raise CommandError(f"无法删除演示数据：仍有{'、'.join(names)}引用它") from exc
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        counts = demo_counts(result.company)
        summary = (f"{counts['projects']} 个项目，{counts['units']:,} 套房屋，{counts['customers']:,} 位客户，"
                   f"{counts['parking_spaces']:,} 个车位，{counts['vehicles']:,} 辆车，"
                   f"近三个月 {counts['bills']:,} 张账单、{counts['payments']:,} 笔收款")
        if result.created:
            self.stdout.write(self.style.SUCCESS(
                f"已创建演示数据「{DEMO_COMPANY_NAME}」：{summary}，用时 {time.monotonic() - started:.1f} 秒。"))
        else:
            self.stdout.write(f"演示数据「{DEMO_COMPANY_NAME}」已存在（{summary}）；如需重建请加 --reset。")
        self.stdout.write(f"\n演示账号（密码均为 {DEMO_PASSWORD}）：")
        self.stdout.write(logins_table(demo_logins(result.company)))
        self.stdout.write("\n业主端（手机网页 /m/，小程序接口 /api/v1/owner/）：用业主的手机号获取验证码登录，例如")
        self.stdout.write(logins_table(demo_owner_logins(result.company), header=("手机号", "业主", "房屋", "账单")))
        self.stdout.write("演示环境不发送真实短信：验证码写在运行服务的终端日志（notification … recorded, not sent: "
                          "您的登录验证码为……），也可用 admin 登录后在 消息 › 消息记录 中查看模板为「业主登录验证码」"
                          "的短信。")
