"""The demo company 「爱尚物业服务有限公司」: three projects, their people, cars and staff.

Rows are bulk-inserted (no change-log rows, no ``Unit.save()``) so the whole company loads in
seconds; every random choice comes from one seeded generator, so a given seed and day always
build the same data.
"""

import datetime
import random
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.signals import pre_delete
from django.utils import timezone

from aishang.core.context import change_context
from aishang.core.validators import id_check_char
from aishang.customers.choices import CustomerKind, Gender, IdType, OccupancyRole, Relation, VehicleKind
from aishang.customers.models import Customer, Occupancy, Vehicle
from aishang.estate.choices import ParkingKind, ParkingStatus, UnitStatus
from aishang.estate.models import Building, Company, Entrance, ParkingSpace, Project, Unit, unit_code
from aishang.estate.services import company_create
from aishang.extras.choices import CustomFieldTarget, CustomFieldType
from aishang.extras.models import CustomField, ObjectChange
from aishang.extras.signals import log_delete
from aishang.users.models import User
from aishang.users.services import staff_create

DEMO_COMPANY_NAME = "爱尚物业服务有限公司"
DEMO_PASSWORD = "Aishang2026"
DEMO_SEED = 2026
BATCH = 500

# username, role code, name, project (None: every project)
DEMO_STAFF = [
    ("admin", "admin", "周海涛", None),
    ("finance", "finance", "林晓燕", None),
    ("cashier", "cashier", "陈静", None),
    ("kefu", "service", "黄丽娜", None),
    ("guanjia", "steward", "刘志强", None),
    ("weixiu", "technician", "张建国", None),
    ("baoan", "guard", "李明", None),
    ("guanjia_huayuan", "steward", "王芳", "爱尚花园"),
    ("cashier_shangye", "cashier", "吴婷", "爱尚商业街"),
]

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁"
            "任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严")
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛")
MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳建国志海峰文博翔晨泽轩睿航锋毅诚然"
FEMALE_CHARS = "芳娜敏静丽艳娟霞燕玲婷雪慧颖琳洁倩萍红梅丹晶欣悦怡佳雨嘉琪璐瑶思诗涵彤月秀兰英萱妍桐"
# Shenzhen districts first: most buyers are local; the rest come from across the country.
REGIONS_LOCAL = ("440303", "440304", "440305", "440306", "440307", "440308", "440309", "440310")
REGIONS_ELSEWHERE = ("440104", "440106", "441302", "445102", "440513", "441402", "440804", "430102", "430602",
                     "431002", "360102", "420106", "421002", "510104", "450102", "350203", "110105", "310115",
                     "610113", "410105", "370102", "320106", "330106", "210102", "230103", "340104", "500103",
                     "530102", "520102", "460105", "130102", "140105", "620102", "650102", "120101", "360302")
MOBILE_PREFIXES = ("130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
                   "153", "155", "156", "157", "158", "159", "166", "177", "178", "180", "181", "182", "183",
                   "185", "186", "187", "188", "189", "191", "193", "195", "198", "199")
OCCUPATIONS = ("教师", "医生", "工程师", "软件工程师", "会计", "公务员", "销售经理", "个体经营", "律师", "设计师",
               "护士", "自由职业", "企业管理", "金融分析师", "产品经理", "外贸业务员", "公司职员")
CUSTOMER_TAGS = ("VIP业主", "业委会委员", "楼栋长", "党员", "志愿者", "养宠物", "投诉敏感", "长期未住")
HOBBIES = ("运动健身", "读书", "音乐", "旅游", "园艺", "摄影", "书法绘画", "棋牌", "烹饪", "广场舞")
SPECIAL_NEEDS = ("行动不便，需无障碍通道", "家有婴儿，装修噪音请提前告知", "独居老人，请管家定期探访",
                 "对花粉过敏，绿化打药请提前通知", "夜班工作，白天请勿上门", "听力不好，请发短信联系")
PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
FUEL_CARS = ("丰田 凯美瑞", "本田 雅阁", "大众 帕萨特", "大众 朗逸", "日产 轩逸", "别克 GL8", "宝马 3系",
             "奔驰 C级", "奥迪 A4L", "吉利 星越L", "长安 CS75", "马自达 CX-5")
ELECTRIC_CARS = ("比亚迪 汉", "比亚迪 秦PLUS", "特斯拉 Model 3", "特斯拉 Model Y", "理想 L7", "蔚来 ES6",
                 "小鹏 P7", "问界 M7", "极氪 001")
CAR_COLOURS = ("白色", "黑色", "银色", "灰色", "蓝色", "红色")
BRANDS = ("云帆", "星辰", "智联", "汇通", "蓝海", "启航", "华创", "鼎盛", "凌云", "博睿", "极光", "万象",
          "天衡", "深蓝", "锐思", "远景", "众诚", "睿达", "泰和", "优途", "嘉禾", "新程", "飞跃", "卓越",
          "同创", "拓维", "海纳", "金桥", "明途", "聚能", "腾越", "澜图", "芯动", "易达", "合众", "知行",
          "青禾", "宏图", "安信", "恒远")
OFFICE_TRADES = ("科技", "信息技术", "网络科技", "软件技术", "电子科技", "生物科技", "智能科技", "数据科技",
                 "文化传媒", "企业管理咨询", "建筑设计", "供应链管理", "医疗器械")
SHOP_TRADES = (("餐饮（粤菜）", "餐饮管理"), ("餐饮（湘菜）", "餐饮管理"), ("咖啡茶饮", "餐饮管理"),
               ("烘焙甜品", "食品"), ("便利店", "商贸"), ("生鲜超市", "商贸"), ("药店", "医药连锁"),
               ("美容美发", "美容美发"), ("教育培训", "教育科技"), ("儿童游乐", "文化发展"), ("服装零售", "服饰"),
               ("眼镜店", "眼镜"), ("洗衣店", "洗涤服务"), ("宠物店", "宠物用品"), ("口腔诊所", "医疗管理"),
               ("健身房", "体育发展"), ("花店", "园艺"), ("手机通讯", "通讯设备"), ("快递驿站", "物流"))
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# code, phase, height class, floors, entrances, flats per floor
HUAYUAN_BUILDINGS = [
    ("1", "一期", "多层", 6, 3, 2), ("2", "一期", "多层", 6, 3, 2), ("3", "一期", "高层", 18, 3, 3),
    ("4", "一期", "高层", 22, 2, 4), ("5", "一期", "高层", 24, 2, 3), ("6", "一期", "高层", 26, 2, 4),
    ("7", "二期", "多层", 6, 3, 2), ("8", "二期", "多层", 6, 3, 2), ("9", "二期", "高层", 32, 2, 3),
    ("10", "二期", "高层", 28, 3, 2), ("11", "二期", "高层", 33, 2, 2), ("12", "二期", "高层", 30, 2, 3),
]
# Floor plans by flats per floor: (户型, smallest and largest 建筑面积) for each position on the floor.
FLOOR_PLANS = {
    ("多层", 2): [("两室两厅", 86, 96), ("三室两厅", 112, 135)],
    ("高层", 2): [("四室两厅", 140, 178), ("三室两厅", 125, 140)],
    ("高层", 3): [("三室两厅", 105, 125), ("两室一厅", 68, 82), ("三室两厅", 108, 128)],
    ("高层", 4): [("三室两厅", 95, 115), ("两室一厅", 60, 72), ("两室两厅", 78, 90), ("三室两厅", 98, 118)],
}
PHASE_DELIVERED = {"一期": datetime.date(2016, 6, 30), "二期": datetime.date(2019, 12, 28)}
# (zone, number prefix, spaces)
PARKING_ZONES = [("地下一层A区", "B1A", 150), ("地下一层B区", "B1B", 150), ("地下二层A区", "B2A", 120),
                 ("地下二层B区", "B2B", 120), ("地面临停区", "DM", 60)]
DEVELOPER = "深圳市爱尚置业有限公司"
PARK_OWNER = "深圳市爱尚产业园投资有限公司"


@dataclass
class DemoResult:
    company: Company
    created: bool


def demo_company():
    return Company.objects.filter(name=DEMO_COMPANY_NAME).first()


def demo_install(*, reset=False, seed=DEMO_SEED, today=None, activity=False):
    """Create the demo company unless it is there; with ``reset`` delete it first. With ``activity`` it also gets
    the last months' bills, payments, prepaid and closed shifts (``demo_activity``), as ``manage.py demo_data``
    builds it."""
    company = demo_company()
    if company is not None and not reset:
        return DemoResult(company, created=False)
    with transaction.atomic():
        if company is not None:
            demo_delete(company)
        return DemoResult(demo_create(seed=seed, today=today, activity=activity), created=True)


def demo_create(*, seed=DEMO_SEED, today=None, activity=False):
    taken = sorted(User.objects.filter(username__in=[row[0] for row in DEMO_STAFF]).values_list("username", flat=True))
    if taken:
        raise ValidationError(f"用户名已被占用：{'、'.join(taken)}")
    today = today or timezone.localdate()
    with transaction.atomic(), change_context(source="demo"):
        company = _Builder(random.Random(seed), today).build()
        from aishang.meters.demo import demo_meters_setup

        demo_billing_setup(company, today=today)
        demo_meters_setup(company, today=today, seed=seed)
        from aishang.payments.demo import demo_payments_setup

        demo_payments_setup(company)
        if activity:
            demo_activity(company, seed=seed, today=today)
        return company


DEMO_FEE_ITEMS = [("WY", "物业费", "property"), ("TC", "停车费", "parking"), ("SF", "水费", "water"),
                  ("DF", "电费", "electricity"), ("ZX", "装修管理费", "service")]
DEMO_RULES = [
    # project, fee item, rule name, property type, price, cycle, charged to the tenant
    ("爱尚花园", "WY", "住宅物业费 1.80 元/㎡/月", "住宅", "1.80", "monthly", False),
    ("爱尚商业街", "WY", "商铺物业费 5.00 元/㎡/月", "商铺", "5.00", "quarterly", False),
    ("爱尚科技园", "WY", "写字楼物业费 8.50 元/㎡/月", "写字楼", "8.50", "monthly", True),
]


DEMO_DISCOUNTS = [
    # name, kind, terms, when it applies, who qualifies
    ("老年人物业费九折", "percent", {"rate": "0.90"}, "billing", {"customer_tag": "老年人"}),
    ("预交12个月优惠1个月", "free_periods", {"min_periods": 12, "free_periods": 1}, "billing", {}),
    ("连续一年按时缴费95折", "percent", {"rate": "0.95"}, "payment", {"on_time_months": 12}),
]


def demo_billing_setup(company, today=None):
    """Fee items, charge rules bound by property type and discount schemes, ready for a first bill run.

    The payment-time scheme starts on the demo's day: the replayed months before it were paid at full price, and
    working out who paid on time for every one of their payments would triple the time the demo takes."""
    from aishang.billing.models import BindingTarget, ChargeRule, DiscountScheme, FeeItem, RuleBinding

    fee_items = {code: FeeItem.objects.create(company=company, code=code, name=name, category=category)
                 for code, name, category in DEMO_FEE_ITEMS}
    projects = {project.name: project for project in company.projects.all()}
    types = {property_type.name: property_type for property_type in company.property_types.all()}
    for project_name, item, name, type_name, price, cycle, tenant in DEMO_RULES:
        rule = ChargeRule.objects.create(project=projects[project_name], fee_item=fee_items[item], name=name,
                                         method="building_area", unit_price=price, cycle=cycle,
                                         effective_from=datetime.date(2024, 1, 1), charge_tenant=tenant)
        RuleBinding.objects.create(rule=rule, target=BindingTarget.PROPERTY_TYPE, property_type=types[type_name])
    # Some owners are seniors, so the 老年人 discount has someone to apply to.
    seniors = list(Customer.objects.filter(project__company=company, occupancies__role=OccupancyRole.OWNER).distinct()
                   .order_by("pk")[::17])
    for customer in seniors:
        customer.tags = [*customer.tags, "老年人"]
    Customer.objects.bulk_update(seniors, ["tags"])
    for name, kind, terms, timing, conditions in DEMO_DISCOUNTS:
        valid_from = (today or timezone.localdate()) if timing == "payment" else datetime.date(2024, 1, 1)
        scheme = DiscountScheme.objects.create(company=company, name=name, kind=kind, timing=timing,
                                               valid_from=valid_from, **terms, **conditions)
        scheme.fee_items.set([fee_items["WY"]])


# 日常收费: the last months at the desk, replayed through the real services.

DEMO_HISTORY_MONTHS = 3  # this month and the two before it
# How a unit pays: [(month it pays in, first and last month it pays for)], months counted from the oldest billed
# (0) to this one (2). A habit that stops early leaves arrears: one month, two, or all three.
PAY_HABITS = {
    "all_now": [(2, 0, 2)],
    "through_last": [(1, 0, 1)],
    "each_month": [(0, 0, 0), (1, 1, 1), (2, 2, 2)],
    "late_pair": [(2, 0, 1)],
    "first_only": [(0, 0, 0)],
    "none": [],
}
HABIT_WEIGHTS = {
    "爱尚花园": {"all_now": 30, "through_last": 33, "each_month": 1, "late_pair": 6, "first_only": 8, "none": 22},
    "爱尚商业街": {"all_now": 55, "through_last": 15, "each_month": 0, "late_pair": 5, "first_only": 15, "none": 10},
    "爱尚科技园": {"all_now": 45, "through_last": 25, "each_month": 15, "late_pair": 5, "first_only": 5, "none": 5},
}
# Owners of empty flats pay least.
VACANT_WEIGHTS = {"all_now": 15, "through_last": 15, "each_month": 0, "late_pair": 10, "first_only": 15, "none": 45}
# How a payment is made, by project; "split" is some cash with the rest by WeChat.
PAY_METHODS = {
    "爱尚花园": {"cash": 30, "wechat": 33, "alipay": 20, "card": 10, "split": 7},
    "爱尚商业街": {"wechat": 30, "alipay": 20, "transfer": 30, "cash": 20},
    "爱尚科技园": {"transfer": 65, "wechat": 20, "card": 15},
}
TOP_UPS = 12  # flats that paid up to last month and left money in prepaid, one in three for 物业费 only
WALK_INS = 4  # flats in arrears that settled everything at the desk yesterday, and as many today
WORKING_HOURS = (datetime.time(8, 40), datetime.time(17, 20))
SHIFT_END = datetime.time(17, 30)


class _DemoClock:
    """The time the product's services read through ``timezone.now()``, set back while the demo replays the last
    months through them: bills, payments and the journal are insert-only and cannot be re-dated afterwards."""

    def __init__(self):
        self.at = None

    @contextmanager
    def running(self):
        from django.utils import timezone as django_timezone

        real, clock = django_timezone.datetime, self

        class ClockDatetime(real):
            @classmethod
            def now(cls, tz=None):
                return real.now(tz) if clock.at is None else clock.at.astimezone(tz)

        django_timezone.datetime = ClockDatetime
        try:
            yield self
        finally:
            django_timezone.datetime = real


def _month_back(day, months):
    index = day.year * 12 + day.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


def demo_activity(company, *, seed=DEMO_SEED, today=None):
    """The last three months at the desk: bill runs, payments by the demo cashiers with every method, arrears of
    different ages, prepaid top-ups, and 陈静's shifts closed every evening up to yesterday."""
    _Desk(company, random.Random(f"{seed}-desk"), today or timezone.localdate()).replay()


class _Desk:
    def __init__(self, company, rng, today):
        from aishang.billing.models import ChargeRule, FeeItem

        self.company, self.rng, self.today = company, rng, today
        self.latest = timezone.now() - datetime.timedelta(minutes=2)
        self.months = [_month_back(today, back) for back in range(DEMO_HISTORY_MONTHS - 1, -1, -1)]
        self.staff = {user.username: user for user in User.objects.filter(company=company)}
        self.projects = {project.name: project for project in company.projects.all()}
        self.rules = {project.pk: list(ChargeRule.objects.filter(project=project))
                      for project in self.projects.values()}
        self.property_fee = FeeItem.objects.get(company=company, code="WY")
        self.open_bills = {}  # unit id → [(month index, bill id, what it owes)]
        self.events = []  # (moment, sequence, action, arguments)

    # When things happen

    def moment(self, day, time):
        """An aware moment on ``day``; a moment not yet come today becomes one shortly before the demo is built."""
        moment = timezone.make_aware(datetime.datetime.combine(day, time))
        earlier = datetime.timedelta(seconds=int(self.rng.random() * 5400))  # drawn always: same data at any hour
        if moment > self.latest:
            start_of_day = timezone.make_aware(datetime.datetime.combine(day, datetime.time(0)))
            moment = max(start_of_day, self.latest - earlier)
        return moment

    def working_moment(self, day):
        opens, closes = (datetime.datetime.combine(day, time) for time in WORKING_HOURS)
        seconds = int(self.rng.random() * (closes - opens).total_seconds())
        return self.moment(day, (opens + datetime.timedelta(seconds=seconds)).time())

    def day_in(self, month_index):
        first = self.months[month_index]
        last = self.today if month_index == len(self.months) - 1 else _month_back(first, -1) - datetime.timedelta(1)
        return first + datetime.timedelta(days=int(self.rng.random() * ((last - first).days + 1)))

    def month_of(self, day):
        return max(index for index, month in enumerate(self.months) if month <= day)

    def plan(self, moment, action, *arguments):
        self.events.append((moment, len(self.events), action, arguments))

    # What happens

    def replay(self):
        for index, month in enumerate(self.months):
            self.plan(self.moment(month, datetime.time(8, 0)), self.post_runs, index)
        owing, top_ups = [], 0
        units = Unit.objects.filter(project__company=self.company).order_by("pk").values_list("pk", "project__name",
                                                                                               "status")
        for unit_id, project_name, status in units:
            weights = VACANT_WEIGHTS if status == UnitStatus.VACANT else HABIT_WEIGHTS[project_name]
            habit = self.choose(weights)
            for pay_month, first, last in PAY_HABITS[habit]:
                when = self.working_moment(self.day_in(pay_month))
                cashier = self.cashier_for(project_name, method := self.choose(PAY_METHODS[project_name]))
                self.plan(when, self.pay, unit_id, project_name, first, last, method, cashier)
                if habit == "through_last" and project_name == "爱尚花园" and top_ups < TOP_UPS \
                        and self.rng.random() < 0.06:
                    top_ups += 1
                    self.plan(when + datetime.timedelta(minutes=2), self.top_up, unit_id, cashier, top_ups % 3 == 0)
            if habit == "none" and project_name == "爱尚花园":
                owing.append(unit_id)
        # 陈静 collected yesterday and has collected today, so there is a shift to close and one still open.
        yesterday = self.today - datetime.timedelta(days=1)
        for day, unit_id in zip([yesterday] * WALK_INS + [self.today] * WALK_INS, owing[::9], strict=False):
            self.plan(self.working_moment(day), self.pay, unit_id, "爱尚花园", 0, self.month_of(day),
                      self.choose(PAY_METHODS["爱尚花园"]), "cashier")
        cashier_days = {moment.date() for moment, _seq, action, arguments in self.events
                        if action == self.pay and arguments[-1] == "cashier"}
        for day in sorted(day for day in cashier_days if self.months[0] <= day < self.today):
            self.plan(self.moment(day, SHIFT_END), self.close_shift, "cashier")
        with _DemoClock().running() as clock:
            for moment, _sequence, action, arguments in sorted(self.events, key=lambda event: event[:2]):
                clock.at = moment
                action(*arguments)

    def choose(self, weights):
        return self.rng.choices(list(weights), list(weights.values()))[0]

    def cashier_for(self, project_name, method):
        if method == "transfer" or self.rng.random() < 0.08:
            return "finance"
        if project_name == "爱尚商业街" and self.rng.random() < 0.85:
            return "cashier_shangye"
        return "cashier"

    def post_runs(self, month_index):
        from aishang.billing.balances import bills_with_outstanding
        from aishang.billing.models import Bill
        from aishang.billing.services import bill_run_create, bill_run_post

        runs = [bill_run_post(bill_run_create(project=project, rules=self.rules[project.pk],
                                              period_month=self.months[month_index], actor=self.staff["finance"]),
                              actor=self.staff["finance"])
                for project in self.projects.values()]
        bills = bills_with_outstanding(Bill.objects.filter(run__in=runs, unit__isnull=False))
        for pk, unit_id, outstanding in bills.values_list("pk", "unit_id", "outstanding").order_by("pk"):
            if outstanding > 0:
                owed = Decimal(outstanding).quantize(Decimal("0.01"))
                self.open_bills.setdefault(unit_id, []).append((month_index, pk, owed))

    def tenders(self, method, amount):
        from aishang.billing.payments import Tender

        rng = self.rng
        if method == "cash":
            step = Decimal(rng.choice((10, 50, 100)))
            tendered = (amount // step + 1) * step if rng.random() < 0.5 else None
            return [Tender("cash", amount, tendered)]
        if method == "split":
            cash = min(amount, Decimal(rng.choice((100, 200, 500))))
            return [Tender("cash", cash), *([Tender("wechat", amount - cash)] if amount > cash else [])]
        reference = {"wechat": "4200", "alipay": "2026", "card": "POS", "transfer": "HX"}[method]
        return [Tender(method, amount, reference=f"{reference}{rng.randrange(10 ** 12):012d}")]

    def pay(self, unit_id, project_name, first, last, method, cashier):
        from aishang.billing.discounts import payment_grants
        from aishang.billing.models import Bill
        from aishang.billing.payments import payment_collect

        bills = self.open_bills.get(unit_id, [])
        chosen = [bill for bill in bills if first <= bill[0] <= last]
        if not chosen:
            return
        self.open_bills[unit_id] = [bill for bill in bills if bill not in chosen]
        owed = {pk: amount for _month, pk, amount in chosen}
        amount = sum(owed.values())
        if timezone.localdate() >= self.today:
            # What the desk asks for: less the discount for paying in full (缴费时优惠, in force from today on).
            objects = list(Bill.objects.filter(pk__in=owed).select_related("project", "fee_item"))
            amount -= sum((grant.amount for grant in payment_grants(objects, owed, self.today)), Decimal(0))
        payment_collect(project=self.projects[project_name], bill_ids=list(owed), tenders=self.tenders(method, amount),
                        actor=self.staff[cashier])

    def top_up(self, unit_id, cashier, property_fee_only):
        from aishang.billing.payments import payment_collect

        unit = Unit.objects.select_related("project").get(pk=unit_id)
        amount = Decimal(self.rng.choice((500, 1000, 1500, 2000, 3000)))
        payment_collect(project=unit.project, unit=unit, bill_ids=[], actor=self.staff[cashier],
                        tenders=self.tenders(self.rng.choice(("cash", "wechat", "alipay")), amount),
                        prepaid_to=self.property_fee if property_fee_only else None, note="预存物业费")
        # Its bills from now on are settled from prepaid when each run posts, not at the desk.
        self.open_bills.pop(unit_id, None)

    def close_shift(self, cashier):
        from aishang.billing.closes import shift_close, shift_summary

        user = self.staff[cashier]
        summary = shift_summary(user)
        if summary.is_empty:
            return
        short = Decimal("0.50") if self.rng.random() < 0.08 and summary.cash_expected >= 1 else Decimal(0)
        shift_close(cashier=user, actor=user, cash_handed_over=summary.cash_expected - short,
                    note="找零时多找五角，已登记" if short else "")


def demo_delete(company):
    """Delete the company and everything in it, children before the rows they protect."""
    company_id = company.pk
    projects = Project.objects.filter(company=company)
    from aishang.billing.models import (
        Allocation,
        ApprovalFlow,
        ApprovalLevel,
        ApprovalRequest,
        ApprovalStep,
        Bill,
        BillDiscount,
        BillRun,
        BillRunSchedule,
        BillVoid,
        ChargeRule,
        Deposit,
        DepositMovement,
        DiscountScheme,
        FeeItem,
        JournalEntry,
        Payment,
        PaymentReversal,
        PaymentTender,
        Posting,
        PrepaidAccount,
        PrepaidMovement,
        ReceiptPrint,
        ReceiptSequence,
        ReceiptTemplate,
        RuleBinding,
        RulePrice,
        ShiftClose,
        Waiver,
    )
    from aishang.meters.models import AllocationRule, AllocationRun, AllocationShare, Meter, MeterReading
    from aishang.notifications.models import Message

    with transaction.atomic(), _deletes_not_logged():
        if connection.vendor == "postgresql":
            # The journal refuses deletes by trigger; only the demo's own reset may remove its rows.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        for queryset in (
            Message.objects.filter(company=company),
        ):
            queryset.delete()
        from aishang.payments.demo import demo_payments_delete

        demo_payments_delete(company)
        for queryset in (
            ApprovalStep.objects.filter(request__project__in=projects),
            Waiver.objects.filter(bill__project__in=projects),
            BillVoid.objects.filter(bill__project__in=projects),
            BillDiscount.objects.filter(bill__project__in=projects),
            PrepaidMovement.objects.filter(project__in=projects),
            DepositMovement.objects.filter(project__in=projects),
            Allocation.objects.filter(project__in=projects),
            PaymentReversal.objects.filter(project__in=projects),
            ApprovalRequest.objects.filter(project__in=projects),
            ApprovalLevel.objects.filter(flow__company=company),
            ApprovalFlow.objects.filter(company=company),
            ShiftClose.objects.filter(company=company),
            PaymentTender.objects.filter(payment__project__in=projects),
            Deposit.objects.filter(project__in=projects),
            ReceiptPrint.objects.filter(payment__project__in=projects),
            ReceiptTemplate.objects.filter(company=company),
            Payment.objects.filter(project__in=projects),
            PrepaidAccount.objects.filter(project__in=projects),
            ReceiptSequence.objects.filter(company=company),
            Posting.objects.filter(project__in=projects),
            JournalEntry.objects.filter(project__in=projects),
            Bill.objects.filter(project__in=projects),
            MeterReading.objects.filter(project__in=projects),
            AllocationShare.objects.filter(run__project__in=projects),
            AllocationRun.objects.filter(project__in=projects),
            AllocationRule.objects.filter(project__in=projects),
            BillRun.objects.filter(project__in=projects),
            BillRunSchedule.objects.filter(project__in=projects),
            RuleBinding.objects.filter(rule__project__in=projects),
            RulePrice.objects.filter(rule__project__in=projects),
            ChargeRule.objects.filter(project__in=projects),
            Meter.objects.filter(project__in=projects, parent__isnull=False),
            Meter.objects.filter(project__in=projects),
            DiscountScheme.objects.filter(company=company),
            FeeItem.objects.filter(company=company),
            Vehicle.objects.filter(project__in=projects),
            Occupancy.objects.filter(unit__project__in=projects),
            Customer.objects.filter(project__in=projects),
            ParkingSpace.objects.filter(project__in=projects),
            Unit.objects.filter(project__in=projects),
            Entrance.objects.filter(project__in=projects),
            Building.objects.filter(project__in=projects),
            User.objects.filter(company=company),
            projects,
        ):
            queryset.delete()
        company.delete()
        ObjectChange.objects.filter(company_id=company_id).delete()


@contextmanager
def _deletes_not_logged():
    """The company's change log goes with it, so logging each deleted row first would only cost time."""
    pre_delete.disconnect(log_delete)
    try:
        yield
    finally:
        pre_delete.connect(log_delete)


def demo_logins(company):
    """(username, role names, scope, password) of the demo staff that exist."""
    rows = []
    users = {u.username: u for u in User.objects.filter(company=company).prefetch_related("roles", "projects")}
    for username, *_ in DEMO_STAFF:
        user = users.get(username)
        if user is None:
            continue
        roles = "、".join(role.name for role in user.roles.all())
        scope = "全部项目" if user.scope_all_projects else "、".join(p.name for p in user.projects.all())
        rows.append((username, roles, scope, DEMO_PASSWORD))
    return rows


def demo_owner_logins(company, count=3):
    """(mobile, name, project and unit, what it owes) of a few current owners in 爱尚花园 with bills still open:
    who to sign in as on the owner pages (/m/) to see bills to pay."""
    from aishang.billing.balances import open_amounts
    from aishang.billing.models import Bill

    owners = (Occupancy.objects.current().filter(unit__project__company=company, unit__project__name="爱尚花园",
                                                 role=OccupancyRole.OWNER).exclude(customer__mobile="")
              .select_related("customer", "unit__project").order_by("unit__code", "pk")[:200])
    rows, seen = [], set()
    for occupancy in owners:
        if occupancy.customer.mobile in seen:
            continue
        owed = sum(open_amounts(Bill.objects.filter(unit_id=occupancy.unit_id)).values(), Decimal(0))
        if owed > 0:
            seen.add(occupancy.customer.mobile)
            rows.append((occupancy.customer.mobile, occupancy.customer.name,
                         f"{occupancy.unit.project.name} {occupancy.unit.code}", f"欠费 ¥{owed:,.2f}"))
        if len(rows) == count:
            break
    return rows


def demo_counts(company):
    from aishang.billing.models import Bill, Payment

    projects = Project.objects.filter(company=company)
    return {
        "projects": projects.count(),
        "units": Unit.objects.filter(project__in=projects).count(),
        "customers": Customer.objects.filter(project__in=projects).count(),
        "parking_spaces": ParkingSpace.objects.filter(project__in=projects).count(),
        "vehicles": Vehicle.objects.filter(project__in=projects).count(),
        "bills": Bill.objects.filter(project__in=projects).count(),
        "payments": Payment.objects.filter(project__in=projects).count(),
    }


def uscc(rng, region="440300"):
    """A 统一社会信用代码 with valid check characters (GB 32100-2015, GB 11714-1997)."""
    body = [rng.randint(0, 9) for _ in range(8)]
    org_check = 11 - sum(d * w for d, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    org_code = "".join(map(str, body)) + {10: "X", 11: "0"}.get(org_check, str(org_check))
    first17 = "91" + region + org_code
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return first17 + USCC_CHARS[(31 - total % 31) % 31]


class _Builder:
    def __init__(self, rng, today):
        self.rng = rng
        self.today = today
        self.ids, self.mobiles, self.plates, self.org_names = set(), set(), set(), set()
        self.customers, self.occupancies = [], []

    def name(self, gender, surname=None):
        rng = self.rng
        if surname is None:
            surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.01 else rng.choice(SURNAMES)
        chars = MALE_CHARS if gender == Gender.MALE else FEMALE_CHARS
        return surname + "".join(rng.choice(chars) for _ in range(1 if rng.random() < 0.3 else 2))

    def mobile(self):
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.mobiles:
                self.mobiles.add(number)
                return number

    def birth_date(self, age):
        rng = self.rng
        birth = datetime.date(self.today.year - age, rng.randint(1, 12), rng.randint(1, 28))
        return birth if birth <= self.today else birth.replace(year=birth.year - 1)

    def resident_id(self, birth, gender):
        rng = self.rng
        region = rng.choice(REGIONS_LOCAL if rng.random() < 0.45 else REGIONS_ELSEWHERE)
        while True:
            sex_digit = rng.choice("13579" if gender == Gender.MALE else "02468")
            first17 = f"{region}{birth:%Y%m%d}{rng.randrange(100):02d}{sex_digit}"
            number = first17 + id_check_char(first17)
            if number not in self.ids:
                self.ids.add(number)
                return number

    def person(self, project, *, age, gender=None, surname=None, **fields):
        rng = self.rng
        gender = gender or rng.choice((Gender.MALE, Gender.FEMALE))
        age = max(age, 1)
        birth = self.birth_date(age)
        adult = age >= 18
        if age >= 60:
            occupation = "退休"
        elif adult:
            occupation = rng.choice(OCCUPATIONS)
        else:
            occupation = "学生" if age >= 6 else ""
        customer = Customer(
            project=project, kind=CustomerKind.PERSON, name=self.name(gender, surname),
            mobile=self.mobile() if age >= 16 else "", id_type=IdType.RESIDENT_ID,
            id_number=self.resident_id(birth, gender), gender=gender, birth_date=birth, occupation=occupation,
            email=f"{rng.randint(10**6, 10**10)}@{rng.choice(('qq.com', '163.com', '126.com'))}"
            if adult and rng.random() < 0.15 else "",
        )
        for key, value in fields.items():
            if value is not None:
                setattr(customer, key, value)
        self.customers.append(customer)
        return customer

    def organisation(self, project, name, **fields):
        rng = self.rng
        customer = Customer(project=project, kind=CustomerKind.ORGANIZATION, name=name, mobile=self.mobile(),
                            phone=f"0755-{rng.choice('2368')}{rng.randrange(10**7):07d}",
                            id_type=IdType.BUSINESS_LICENSE, id_number=uscc(rng), **fields)
        self.customers.append(customer)
        return customer

    def org_name(self, trades):
        while True:
            name = f"深圳市{self.rng.choice(BRANDS)}{self.rng.choice(trades)}有限公司"
            if name not in self.org_names:
                self.org_names.add(name)
                return name

    def occupy(self, unit, customer, role, relation=Relation.SELF, start=None, end=None, payer=False):
        self.occupancies.append(Occupancy(unit=unit, customer=customer, role=role, relation=relation,
                                          start_date=start, end_date=end, is_payer=payer))

    def day_between(self, first, last):
        # Exactly one draw whatever the span, so the same seed builds the same people on any day.
        span = max((last - first).days, 0)
        return first + datetime.timedelta(days=int(self.rng.random() * (span + 1)))

    def extras(self, customer, *, new_owner=False):
        """Tags and the company's own customer fields, for some of the people."""
        rng = self.rng
        tags = []
        if new_owner:
            tags.append("新业主")
        if rng.random() < 0.12:
            tags.extend(rng.sample(CUSTOMER_TAGS, rng.choice((1, 1, 2))))
        customer.tags = tags
        data = {}
        if rng.random() < 0.3:
            picked = set(rng.sample(HOBBIES, rng.randint(1, 3)))
            data["hobbies"] = [h for h in HOBBIES if h in picked]
        if rng.random() < 0.05:
            data["special_needs"] = rng.choice(SPECIAL_NEEDS)
        customer.custom_field_data = data

    def build(self):
        rng = self.rng
        company = company_create(name=DEMO_COMPANY_NAME, short_name="爱尚物业", credit_code=uscc(rng),
                                 contact_phone="0755-26880000", address="广东省深圳市南山区科技园爱尚大厦18楼")
        types = {t.name: t for t in company.property_types.all()}
        for weight, (name, label, field_type, choices) in enumerate([
            ("hobbies", "兴趣爱好", CustomFieldType.MULTI_CHOICE, list(HOBBIES)),
            ("special_needs", "特殊需求", CustomFieldType.TEXT, []),
        ]):
            field = CustomField(company=company, target=CustomFieldTarget.CUSTOMER, name=name, label=label,
                                field_type=field_type, choices=choices, weight=weight)
            field.full_clean()
            field.save()

        huayuan = Project.objects.create(
            company=company, code="ASHY", name="爱尚花园", province="广东省", city="深圳市", district="龙岗区",
            address="龙岗区坂田街道爱尚路88号", manager_name="郑国华", service_phone="0755-28860001",
            delivered_on=PHASE_DELIVERED["一期"], notes="一期2016年交付，二期2019年交付")
        street = Project.objects.create(
            company=company, code="ASSY", name="爱尚商业街", province="广东省", city="深圳市", district="龙岗区",
            address="龙岗区坂田街道爱尚路90号", manager_name="何静", service_phone="0755-28860002",
            delivered_on=datetime.date(2018, 9, 30))
        park = Project.objects.create(
            company=company, code="ASKJ", name="爱尚科技园", province="广东省", city="深圳市", district="南山区",
            address="南山区粤海街道科技南路168号", manager_name="许文博", service_phone="0755-26880003",
            delivered_on=datetime.date(2020, 6, 30))
        huayuan.property_types.set([types["住宅"], types["车位"]])
        street.property_types.set([types["商铺"]])
        park.property_types.set([types["写字楼"]])

        owners, tenants = self.build_huayuan(huayuan, types["住宅"])
        self.build_street(street, types["商铺"])
        self.build_park(park, types["写字楼"])
        Customer.objects.bulk_create(self.customers, batch_size=BATCH)
        Occupancy.objects.bulk_create(self.occupancies, batch_size=BATCH)
        self.build_parking(huayuan, owners, tenants)
        for project in (huayuan, street, park):
            total = sum(u.building_area for u in Unit.objects.filter(project=project).only("building_area"))
            Project.objects.filter(pk=project.pk).update(total_area=total)
        self.build_staff(company)
        return company

    def build_huayuan(self, project, residential):
        rng = self.rng
        buildings, entrances, units, plans = [], [], [], []
        for weight, (code, phase, height, floors, entrance_count, per_floor) in enumerate(HUAYUAN_BUILDINGS):
            delivered = PHASE_DELIVERED[phase]
            building = Building(project=project, code=code, name=f"{code}栋", property_type=residential,
                                floors_above=floors, floors_below=2 if height == "高层" else 1, phase=phase,
                                height_class=height, completed_on=delivered - datetime.timedelta(days=180),
                                weight=weight)
            buildings.append(building)
            ratio = rng.uniform(0.78, 0.85)
            floor_plan = [(layout, Decimal(f"{rng.uniform(low, high):.2f}"))
                          for layout, low, high in FLOOR_PLANS[(height, per_floor)]]
            duplex = Decimal(f"{rng.uniform(150, 178):.2f}")
            for e in range(1, entrance_count + 1):
                entrance = Entrance(project=project, building=building, code=str(e), name=f"{e}单元",
                                    has_elevator=height == "高层")
                entrances.append(entrance)
                for floor in range(1, floors + 1):
                    for position, (layout, area) in enumerate(floor_plan, start=1):
                        if height == "多层" and floor == floors and position == 2:
                            layout, area = "四室两厅（复式）", duplex
                        plans.append((building, entrance, floor, position, layout, area, ratio, delivered))
        Building.objects.bulk_create(buildings, batch_size=BATCH)
        Entrance.objects.bulk_create(entrances, batch_size=BATCH)

        for building, entrance, floor, position, layout, area, ratio, delivered in plans:
            roll = rng.random()
            if building.phase == "二期" and roll < 0.04:
                status = UnitStatus.UNDELIVERED
            elif roll < 0.12:
                status = UnitStatus.VACANT
            elif roll < 0.27:
                status = UnitStatus.RENTED
            elif roll < 0.30:
                status = UnitStatus.DECORATING
            else:
                status = UnitStatus.OWNER_OCCUPIED
            if status in (UnitStatus.UNDELIVERED, UnitStatus.DECORATING):
                decoration = "毛坯"
            else:
                decoration = rng.choices(("毛坯", "简装", "精装"), (1, 4, 5))[0]
            number = f"{floor}{position:02d}"
            units.append(Unit(
                project=project, building=building, entrance=entrance, number=number,
                code=unit_code(building.code, entrance.code, number), floor=floor, property_type=residential,
                building_area=area, inner_area=Decimal(f"{area * Decimal(str(ratio)):.2f}"), layout=layout,
                decoration=decoration, status=status,
                delivered_on=None if status == UnitStatus.UNDELIVERED else delivered,
            ))
        Unit.objects.bulk_create(units, batch_size=BATCH)

        owners, tenants = [], []
        for unit in units:
            if unit.status == UnitStatus.UNDELIVERED:
                continue
            owners.append(self.huayuan_people(project, unit, tenants))
        return owners, tenants

    def huayuan_people(self, project, unit, tenants):
        rng = self.rng
        delivered = unit.delivered_on
        bought = delivered
        if rng.random() < 0.1 and (self.today - delivered).days > 400:
            bought = self.day_between(delivered + datetime.timedelta(days=365),
                                      self.today - datetime.timedelta(days=30))
            previous = self.person(project, age=rng.randint(35, 70), move_in_date=delivered)
            self.occupy(unit, previous, OccupancyRole.OWNER, start=delivered, end=bought - datetime.timedelta(days=1),
                        payer=True)
            previous.tags = ["历史业主"]
        age = rng.randint(28, 68)
        owner = self.person(project, age=age)
        lives_here = unit.status == UnitStatus.OWNER_OCCUPIED
        if lives_here:
            owner.move_in_date = self.day_between(bought, min(bought + datetime.timedelta(days=180), self.today))
        self.extras(owner, new_owner=(self.today - bought).days < 365)
        self.occupy(unit, owner, OccupancyRole.OWNER, start=bought, payer=True)
        if lives_here:
            self.family(project, unit, owner, age)
        elif unit.status == UnitStatus.RENTED:
            start = self.day_between(max(bought, self.today - datetime.timedelta(days=700)), self.today)
            tenant = self.person(project, age=rng.randint(22, 50), move_in_date=start)
            self.extras(tenant)
            self.occupy(unit, tenant, OccupancyRole.TENANT, Relation.OTHER, start=start,
                        end=start + datetime.timedelta(days=729))
            tenants.append(tenant)
        return owner

    def family(self, project, unit, owner, age):
        rng = self.rng
        start = owner.move_in_date
        husband_surname = owner.name[:2] if owner.name[:2] in COMPOUND_SURNAMES else owner.name[0]
        if rng.random() < 0.7:
            spouse_gender = Gender.FEMALE if owner.gender == Gender.MALE else Gender.MALE
            spouse = self.person(project, age=max(22, age + rng.randint(-5, 5)), gender=spouse_gender,
                                 move_in_date=start)
            if spouse_gender == Gender.MALE:
                husband_surname = spouse.name[:2] if spouse.name[:2] in COMPOUND_SURNAMES else spouse.name[0]
            owner.emergency_contact, owner.emergency_phone = spouse.name, spouse.mobile
            self.occupy(unit, spouse, OccupancyRole.FAMILY, Relation.SPOUSE, start=start)
        for _ in range(rng.choice((0, 1, 1, 2)) if age >= 26 else 0):
            child_age = rng.randint(1, min(age - 24, 30))
            child = self.person(project, age=child_age, surname=husband_surname, move_in_date=start,
                                occupation="学生" if 6 <= child_age < 22 else None)
            self.occupy(unit, child, OccupancyRole.FAMILY, Relation.CHILD, start=start)
        if rng.random() < 0.15 and age < 66:
            parent = self.person(project, age=age + rng.randint(24, 30), move_in_date=start)
            self.occupy(unit, parent, OccupancyRole.FAMILY, Relation.PARENT, start=start)

    def build_street(self, project, shop_type):
        rng = self.rng
        delivered = project.delivered_on
        layout = [("A", "A区", 2, 14), ("B", "B区", 2, 14), ("C", "C区", 3, 8)]
        buildings = [Building(project=project, code=code, name=name, property_type=shop_type, floors_above=floors,
                              floors_below=1, height_class="商业街", completed_on=delivered, weight=weight)
                     for weight, (code, name, floors, _) in enumerate(layout)]
        Building.objects.bulk_create(buildings)
        units = []
        for building, (_, _, floors, per_floor) in zip(buildings, layout, strict=True):
            for floor in range(1, floors + 1):
                for position in range(1, per_floor + 1):
                    area = Decimal(f"{rng.uniform(30, 120) * (1 + 0.6 * (floor - 1)):.2f}")
                    number = f"{floor}{position:02d}"
                    units.append(Unit(
                        project=project, building=building, number=number, code=unit_code(building.code, "", number),
                        floor=floor, property_type=shop_type, building_area=area,
                        inner_area=Decimal(f"{area * Decimal(str(round(rng.uniform(0.82, 0.9), 3))):.2f}"),
                        decoration=rng.choice(("毛坯", "简装", "精装")), delivered_on=delivered))
        developer = self.organisation(project, DEVELOPER, notes="开发商自持商铺")
        for unit in units:
            held = rng.random() < 0.25
            owner = developer if held else self.person(project, age=rng.randint(35, 65))
            if not held:
                self.extras(owner)
            roll = rng.random()
            self.occupy(unit, owner, OccupancyRole.OWNER, start=delivered, payer=roll >= 0.7)
            scope, trade = rng.choice(SHOP_TRADES)
            if roll < 0.7:
                unit.status, lease = UnitStatus.RENTED, "已出租"
                start = self.day_between(self.today - datetime.timedelta(days=1000), self.today)
                if rng.random() < 0.4:
                    tenant = self.person(project, age=rng.randint(25, 55), occupation="个体经营", move_in_date=start)
                else:
                    tenant = self.organisation(project, self.org_name((trade,)), move_in_date=start)
                self.occupy(unit, tenant, OccupancyRole.TENANT, Relation.OTHER, start=start,
                            end=start + datetime.timedelta(days=3 * 365), payer=True)
            elif roll < 0.85 and not held:
                unit.status, lease = UnitStatus.OWNER_OCCUPIED, "自营"
            else:
                unit.status, lease, scope = UnitStatus.VACANT, "招租中", ""
            unit.custom_field_data = {"lease_status": lease, **({"business_scope": scope} if scope else {})}
        Unit.objects.bulk_create(units, batch_size=BATCH)

    def build_park(self, project, office_type):
        rng = self.rng
        delivered = project.delivered_on
        towers = [("A", "A座", 17, 5), ("B", "B座", 16, 4), ("C", "C座", 13, 5)]
        buildings = [Building(project=project, code=code, name=name, property_type=office_type, floors_above=floors,
                              floors_below=3, height_class="高层", completed_on=delivered, weight=weight)
                     for weight, (code, name, floors, _) in enumerate(towers)]
        Building.objects.bulk_create(buildings)
        entrances = [Entrance(project=project, building=b, code="1", name="大堂") for b in buildings]
        Entrance.objects.bulk_create(entrances)
        investor = self.organisation(project, PARK_OWNER, notes="园区持有方")
        units, tenant = [], None
        for building, (_, _, floors, per_floor) in zip(buildings, towers, strict=True):
            suite_areas = [Decimal(f"{rng.uniform(120, 480):.2f}") for _ in range(per_floor)]
            for floor in range(2, floors + 1):
                for position, area in enumerate(suite_areas, start=1):
                    number = f"{floor}{position:02d}"
                    unit = Unit(project=project, building=building, number=number,
                                code=unit_code(building.code, "", number), floor=floor, property_type=office_type,
                                building_area=area, inner_area=Decimal(f"{area * Decimal('0.72'):.2f}"),
                                decoration=rng.choice(("简装", "精装")), delivered_on=delivered)
                    units.append(unit)
                    roll = rng.random()
                    occupant = ""
                    if roll < 0.12:
                        buyer = self.organisation(project, self.org_name(OFFICE_TRADES))
                        bought = self.day_between(delivered, self.today - datetime.timedelta(days=60))
                        self.occupy(unit, buyer, OccupancyRole.OWNER, start=bought, payer=True)
                        unit.status, occupant, tenant = UnitStatus.OWNER_OCCUPIED, buyer.name, None
                    elif roll < 0.25:
                        self.occupy(unit, investor, OccupancyRole.OWNER, start=delivered, payer=True)
                        unit.status, tenant = UnitStatus.VACANT, None
                    else:
                        self.occupy(unit, investor, OccupancyRole.OWNER, start=delivered)
                        # A tenant sometimes takes the next suite on the same floor as well.
                        if tenant is None or position == 1 or rng.random() > 0.2:
                            start = self.day_between(self.today - datetime.timedelta(days=1000), self.today)
                            tenant = self.organisation(project, self.org_name(OFFICE_TRADES), move_in_date=start)
                        decorating = (self.today - tenant.move_in_date).days < 60
                        unit.status = UnitStatus.DECORATING if decorating else UnitStatus.RENTED
                        occupant = tenant.name
                        self.occupy(unit, tenant, OccupancyRole.TENANT, Relation.OTHER, start=tenant.move_in_date,
                                    end=tenant.move_in_date + datetime.timedelta(days=3 * 365), payer=True)
                    unit.custom_field_data = {"tenant_companies": occupant} if occupant else {}
        Unit.objects.bulk_create(units, batch_size=BATCH)

    def plate(self, electric):
        rng = self.rng
        while True:
            if electric:
                tail = rng.choice("DF") + "".join(rng.choice("0123456789") for _ in range(5))
            else:
                letters = set(rng.sample(range(5), rng.choice((0, 1, 1, 2))))
                tail = "".join(rng.choice(PLATE_CHARS) if i in letters else rng.choice("0123456789")
                               for i in range(5))
            plate = "粤B" + tail
            if plate not in self.plates:
                self.plates.add(plate)
                return plate

    def vehicle(self, project, customer, space=None):
        electric = self.rng.random() < 0.3
        return Vehicle(project=project, customer=customer, plate=self.plate(electric),
                       kind=VehicleKind.NEW_ENERGY if electric else VehicleKind.FUEL,
                       brand=self.rng.choice(ELECTRIC_CARS if electric else FUEL_CARS),
                       color=self.rng.choice(CAR_COLOURS), parking_space=space)

    def build_parking(self, project, owners, tenants):
        rng = self.rng
        spaces = []
        for zone, prefix, count in PARKING_ZONES:
            for n in range(1, count + 1):
                if prefix == "DM":
                    kind, status = ParkingKind.TEMPORARY, ParkingStatus.FREE
                elif prefix in ("B1A", "B1B") or (prefix == "B2B" and n <= 60):
                    kind = ParkingKind.OWNED
                    status = ParkingStatus.SOLD if rng.random() < 0.85 else ParkingStatus.FREE
                else:
                    kind = ParkingKind.LEASED
                    status = ParkingStatus.RENTED if rng.random() < 0.75 else ParkingStatus.FREE
                area = Decimal(f"{rng.uniform(12, 13.5) if prefix == 'DM' else rng.uniform(12.5, 16.5):.2f}")
                spaces.append(ParkingSpace(project=project, number=f"{prefix}-{n:03d}", zone=zone, area=area,
                                           kind=kind, status=status))
        ParkingSpace.objects.bulk_create(spaces, batch_size=BATCH)
        vehicles = []
        for space in spaces:
            if space.status == ParkingStatus.SOLD:
                vehicles.append(self.vehicle(project, rng.choice(owners), space))
            elif space.status == ParkingStatus.RENTED:
                driver = rng.choice(tenants) if tenants and rng.random() < 0.3 else rng.choice(owners)
                vehicles.append(self.vehicle(project, driver, space))
        vehicles.extend(self.vehicle(project, rng.choice(owners)) for _ in range(50))
        Vehicle.objects.bulk_create(vehicles, batch_size=BATCH)

    def build_staff(self, company):
        roles = {role.code: role for role in company.roles.all()}
        by_name = {project.name: project for project in company.projects.all()}
        for username, role_code, display_name, project_name in DEMO_STAFF:
            projects = [by_name[project_name]] if project_name else []
            staff_create(company=company, username=username, password=DEMO_PASSWORD, display_name=display_name,
                         roles=[roles[role_code]], projects=projects, scope_all_projects=not projects,
                         mobile=self.mobile())
