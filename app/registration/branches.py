"""Each 毕业去向 branch's own form, as data (DOMAIN.md, 毕业去向 codes): the fields it asks
for, how each is checked, and which evidence files it needs. One `clean` checks any branch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from .. import codes
from ..destinations.codes import DESTINATIONS
from ..employers.codes import NATURE, POSITION
from ..validators import Invalid, normalize_contact_phone, normalize_credit_code


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"      # text, textarea, select, area, credit_code, phone, declare, url, file
    required: bool = True
    choices: Mapping[str, str] | None = None
    max_len: int = 100
    hint: str | None = None

    @property
    def is_file(self) -> bool:
        return self.kind == "file"

    def display(self, value: str | None) -> str:
        if not value:
            return ""
        if self.kind == "select" and self.choices:
            return self.choices.get(value, value)
        if self.kind == "area":
            return codes.area_name(value)
        if self.kind == "declare":
            return "已承诺"
        return value


@dataclass(frozen=True)
class Branch:
    code: str
    label: str
    fields: tuple[Field, ...]
    note: str = ""

    @property
    def inputs(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.is_file)

    @property
    def evidence(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.is_file)


EVIDENCE_HINT = "JPG、PNG 图片或 PDF 文件（按文件内容识别）"


def _sub(code: str, label: str) -> Field:
    return Field("sub_code", label, "select", choices=DESTINATIONS[code].sub_codes)


def _employer(contract_label: str = "劳动合同") -> tuple[Field, ...]:
    return (
        Field("employer_name", "单位名称", max_len=100),
        Field("credit_code", "统一社会信用代码", "credit_code",
              hint="18位，见营业执照或事业单位法人证书"),
        Field("nature", "单位性质", "select", choices=NATURE),
        Field("area", "单位所在地", "area"),
        Field("position", "工作职位类别", "select", choices=POSITION),
        Field("contact", "联系人", max_len=40),
        Field("contact_phone", "联系电话", "phone"),
        Field("contract", contract_label, "file", hint=EVIDENCE_HINT),
    )


def _project(code: str) -> tuple[Field, ...]:
    return (_sub(code, "项目"), Field("service_unit", "服务单位名称"),
            Field("area", "所在地", "area"), Field("contact", "联系人", max_len=40),
            Field("contact_phone", "电话", "phone"))


BRANCHES: dict[str, Branch] = {b.code: b for b in (
    Branch("11", DESTINATIONS["11"].label, _employer()),
    Branch("12", DESTINATIONS["12"].label, _employer() + (
        Field("proof", "聘用证明", "file", hint="月薪不低于当地最低工资标准；" + EVIDENCE_HINT),)),
    Branch("27", DESTINATIONS["27"].label, (_sub("27", "类别"),) + _employer()),
    Branch("46", DESTINATIONS["46"].label, (
        Field("enlist_notice", "入伍通知书/预定兵通知书", "file", hint=EVIDENCE_HINT),
        Field("area", "入伍地", "area"))),
    Branch("50", DESTINATIONS["50"].label, _project("50")),
    Branch("51", DESTINATIONS["51"].label, _project("51")),
    Branch("75", DESTINATIONS["75"].label, (
        Field("venture_name", "企业/项目名称"),
        Field("nature", "性质", "select", choices=NATURE),
        Field("area", "所在地", "area"),
        Field("shop_url", "网店地址", "url", required=False, max_len=300,
              hint="网店创业请填写店铺网址，并上传店铺截图"),
        Field("evidence", "证明材料", "file", hint="营业执照或网店截图；" + EVIDENCE_HINT))),
    Branch("76", DESTINATIONS["76"].label, (
        Field("work_content", "工作内容", "textarea", max_len=1000),
        Field("declaration", "本人承诺以上自由职业信息真实有效，如有虚假愿承担相应责任", "declare")),
        note="自由职业由本人承诺，学院、学校依次审核。"),
    Branch("80", DESTINATIONS["80"].label, (_sub("80", "升学类别"),
                                            Field("admitted_school", "录取学校"))),
    Branch("85", DESTINATIONS["85"].label, (
        Field("country", "国家/地区", max_len=60), Field("school_cn", "院校中文名"),
        Field("school_en", "院校外文名", max_len=200), Field("major", "专业"))),
    Branch("70", DESTINATIONS["70"].label, (_sub("70", "目前状态"),)),
    Branch("71", DESTINATIONS["71"].label, ()),
    Branch("72", DESTINATIONS["72"].label, ()),
)}

# Every destination appears on the chooser; 10 (SIGNED) has no branch here: it is there to
# say that an effective 就业协议书 makes it, and to link to 签约中心.
CHOOSER = tuple(DESTINATIONS.values())


def _url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or " " in value:
        raise Invalid("请填写以 http:// 或 https:// 开头的网址")
    return value


CHECKS: dict[str, Callable[[str], str]] = {
    "credit_code": normalize_credit_code, "phone": normalize_contact_phone, "url": _url}


def clean(branch: Branch, raw: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The branch's values from the form (sub_code among them) → (values, errors by field).
    Files are checked by the caller (their bytes need the CPU pool)."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for f in branch.inputs:
        value = str(raw.get(f.name, "")).strip()
        if f.kind == "declare":
            if value != "1":
                errors[f.name] = "请勾选本人承诺"
            else:
                values[f.name] = "1"
            continue
        if not value:
            if f.required:
                errors[f.name] = f"请{'选择' if f.kind in ('select', 'area') else '填写'}{f.label}"
            continue
        if len(value) > f.max_len:
            errors[f.name] = f"{f.label}不能超过{f.max_len}个字"
            continue
        if f.kind == "select" and value not in (f.choices or {}):
            errors[f.name] = f"请选择{f.label}"
            continue
        if f.kind == "area" and not codes.is_county(value):
            errors[f.name] = f"请选择到区县一级的{f.label}"
            continue
        check = CHECKS.get(f.kind)
        if check is not None:
            try:
                value = check(value)
            except Invalid as exc:
                errors[f.name] = str(exc)
                continue
        values[f.name] = value
    return values, errors
