"""Chinese places, names, phones and IPs as lookup tables plus vectorised formatters.

Everything here works on integer codes (numpy arrays) and turns them into
strings with pyarrow compute kernels, so formatting ten million addresses
costs seconds, not minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "CITIES",
    "COMMUNITIES",
    "GIVEN_NAMES",
    "HONORIFICS",
    "STREETS",
    "SURNAMES",
    "City",
    "concat",
    "digits",
    "format_ip",
    "lookup",
    "numbers",
    "sample_home_ips",
    "sample_honest_phones",
    "sample_virtual_phones",
]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class City:
    """A prefecture-level city, the province it belongs to and some of its districts."""

    province: str
    city: str
    districts: tuple[str, ...]
    zip_prefix: str
    weight: float


# Municipalities repeat their name as province and city; addresses then omit the province.
CITIES: tuple[City, ...] = (
    City("北京市", "北京市", ("朝阳区", "海淀区", "丰台区", "东城区", "昌平区"), "100", 6.0),
    City("上海市", "上海市", ("浦东新区", "徐汇区", "闵行区", "静安区", "宝山区"), "200", 6.5),
    City("天津市", "天津市", ("和平区", "南开区", "河西区", "滨海新区"), "300", 3.0),
    City("重庆市", "重庆市", ("渝中区", "江北区", "渝北区", "沙坪坝区"), "400", 4.0),
    City("广东省", "广州市", ("天河区", "越秀区", "海珠区", "白云区", "番禺区"), "510", 6.0),
    City("广东省", "深圳市", ("南山区", "福田区", "宝安区", "龙岗区", "罗湖区"), "518", 6.0),
    City("广东省", "东莞市", ("南城区", "东城区", "莞城区"), "523", 3.0),
    City("广东省", "佛山市", ("禅城区", "南海区", "顺德区"), "528", 3.0),
    City("浙江省", "杭州市", ("西湖区", "上城区", "拱墅区", "滨江区", "余杭区"), "310", 5.0),
    City("浙江省", "宁波市", ("海曙区", "江北区", "鄞州区"), "315", 2.5),
    City("浙江省", "温州市", ("鹿城区", "龙湾区", "瓯海区"), "325", 2.0),
    City("江苏省", "南京市", ("玄武区", "秦淮区", "鼓楼区", "建邺区", "江宁区"), "210", 4.0),
    City("江苏省", "苏州市", ("姑苏区", "吴中区", "相城区", "虎丘区"), "215", 4.0),
    City("江苏省", "无锡市", ("梁溪区", "滨湖区", "新吴区"), "214", 2.0),
    City("山东省", "济南市", ("历下区", "市中区", "槐荫区", "历城区"), "250", 3.0),
    City("山东省", "青岛市", ("市南区", "市北区", "崂山区", "黄岛区"), "266", 3.0),
    City("四川省", "成都市", ("锦江区", "青羊区", "武侯区", "成华区", "金牛区"), "610", 5.0),
    City("湖北省", "武汉市", ("江岸区", "武昌区", "洪山区", "汉阳区", "江汉区"), "430", 4.5),
    City("湖南省", "长沙市", ("岳麓区", "芙蓉区", "天心区", "开福区"), "410", 3.5),
    City("河南省", "郑州市", ("金水区", "中原区", "二七区", "管城回族区"), "450", 4.0),
    City("河北省", "石家庄市", ("长安区", "桥西区", "新华区", "裕华区"), "050", 2.5),
    City("陕西省", "西安市", ("雁塔区", "碑林区", "新城区", "未央区"), "710", 3.5),
    City("福建省", "福州市", ("鼓楼区", "台江区", "仓山区"), "350", 2.0),
    City("福建省", "厦门市", ("思明区", "湖里区", "集美区"), "361", 2.0),
    City("安徽省", "合肥市", ("蜀山区", "包河区", "庐阳区", "瑶海区"), "230", 2.5),
    City("江西省", "南昌市", ("东湖区", "西湖区", "青山湖区"), "330", 2.0),
    City("辽宁省", "沈阳市", ("和平区", "沈河区", "铁西区", "皇姑区"), "110", 2.5),
    City("辽宁省", "大连市", ("中山区", "西岗区", "沙河口区"), "116", 2.0),
    City("吉林省", "长春市", ("朝阳区", "南关区", "宽城区"), "130", 1.5),
    City("黑龙江省", "哈尔滨市", ("道里区", "南岗区", "香坊区"), "150", 2.0),
    City("云南省", "昆明市", ("五华区", "盘龙区", "官渡区"), "650", 2.0),
    City("贵州省", "贵阳市", ("南明区", "云岩区", "观山湖区"), "550", 1.5),
    City("广西壮族自治区", "南宁市", ("青秀区", "兴宁区", "西乡塘区"), "530", 1.8),
    City("山西省", "太原市", ("小店区", "迎泽区", "杏花岭区"), "030", 1.5),
    City("内蒙古自治区", "呼和浩特市", ("新城区", "回民区", "赛罕区"), "010", 1.0),
    City("甘肃省", "兰州市", ("城关区", "七里河区", "安宁区"), "730", 1.0),
    City("新疆维吾尔自治区", "乌鲁木齐市", ("天山区", "沙依巴克区", "水磨沟区"), "830", 1.0),
    City("海南省", "海口市", ("龙华区", "美兰区", "秀英区"), "570", 1.0),
    City("宁夏回族自治区", "银川市", ("兴庆区", "金凤区", "西夏区"), "750", 0.6),
    City("青海省", "西宁市", ("城中区", "城东区", "城西区"), "810", 0.5),
)

STREETS: tuple[str, ...] = (
    "人民路",
    "建设路",
    "解放路",
    "中山路",
    "和平路",
    "文化路",
    "新华路",
    "长江路",
    "黄河路",
    "科技路",
    "学府路",
    "胜利路",
    "光明路",
    "幸福路",
    "青年路",
    "朝阳路",
    "东风路",
    "民主路",
    "复兴路",
    "团结路",
    "花园路",
    "滨江路",
    "南京路",
    "北京路",
    "西湖路",
    "金沙路",
    "天府大道",
    "工业大道",
    "创业路",
    "振兴路",
    "迎宾大道",
    "育才路",
    "体育路",
    "公园路",
    "丽水路",
    "湖滨路",
)

COMMUNITIES: tuple[str, ...] = (
    "阳光花园",
    "锦绣家园",
    "幸福小区",
    "翠苑",
    "金色港湾",
    "万科城",
    "碧桂园",
    "绿地新都会",
    "保利花园",
    "恒大名都",
    "华润城",
    "龙湖春江郦城",
    "世纪新城",
    "和谐家园",
    "东方明珠苑",
    "丽景湾",
    "书香门第",
    "紫荆花园",
    "枫林绿洲",
    "御景湾",
    "中海国际社区",
    "融创壹号院",
    "星河湾",
    "香榭里",
    "工人新村",
    "教师公寓",
    "滨河小区",
    "桃源居",
    "博雅苑",
    "新天地公寓",
)

SURNAMES: tuple[str, ...] = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)

GIVEN_NAMES: tuple[str, ...] = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "晨",
    "思雨",
    "子涵",
    "浩然",
    "宇轩",
    "欣怡",
    "梓萱",
    "一诺",
    "雨桐",
    "俊杰",
    "建华",
    "建国",
    "志强",
    "海燕",
    "晓东",
    "晓燕",
    "婷婷",
    "佳怡",
    "子轩",
    "博文",
    "文静",
    "丹",
    "鹏",
    "辉",
    "玲",
    "健",
    "斌",
    "宁",
    "雪",
    "琳",
    "凯",
    "诗涵",
    "明轩",
    "嘉怡",
    "天宇",
    "晓明",
    "春梅",
    "红梅",
    "志明",
    "国庆",
    "秀兰",
    "玉兰",
)

# Recipients of brushing parcels are often not real names at all.
HONORIFICS: tuple[str, ...] = ("先生", "女士", "小姐")

_HONEST_PREFIXES = np.array(
    [134, 135, 136, 137, 138, 139, 130, 131, 132, 133, 150, 151, 152, 155, 156, 157, 158, 159,
     180, 181, 182, 183, 185, 186, 187, 188, 189, 173, 176, 177, 198, 199, 166],
    dtype=np.int64,
)  # fmt: skip
_VIRTUAL_PREFIXES = np.array([170, 171, 162, 165, 167], dtype=np.int64)

# Public /16 blocks of Chinese broadband ISPs; home IPs are drawn inside them.
_BROADBAND_BLOCKS = np.array(
    [(36, 110), (39, 144), (42, 120), (58, 32), (59, 172), (60, 12), (61, 140), (101, 80),
     (106, 38), (110, 80), (111, 192), (112, 10), (113, 87), (114, 244), (115, 192),
     (116, 228), (117, 80), (118, 112), (119, 123), (120, 229), (121, 33), (122, 224),
     (123, 120), (124, 64), (125, 118), (180, 160), (182, 148), (183, 6), (218, 17),
     (219, 133), (220, 181), (221, 6), (222, 73), (223, 72)],
    dtype=np.int64,
)  # fmt: skip


def lookup(table: Sequence[str], codes: npt.NDArray[np.integer]) -> pa.Array:
    """Strings of ``table`` at ``codes`` as a pyarrow array (vectorised ``take``)."""
    return pa.array(table, type=pa.string()).take(pa.array(np.asarray(codes, dtype=np.int64)))


def numbers(values: npt.NDArray[np.integer]) -> pa.Array:
    """Decimal strings of integers."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def digits(values: npt.NDArray[np.integer], width: int) -> pa.Array:
    """Zero-padded decimal strings of non-negative integers below ``10**width``."""
    padded = np.asarray(values, dtype=np.int64) + np.int64(10) ** width
    return pc.utf8_slice_codeunits(numbers(padded), 1)


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise string concatenation of arrays and constant strings."""
    return pc.binary_join_element_wise(*parts, "")


def sample_honest_phones(rng: np.random.Generator, size: int, virtual_share: float) -> IntArray:
    """Mobile numbers of ordinary users; ``virtual_share`` of them on virtual operators."""
    prefixes = _HONEST_PREFIXES[rng.integers(0, len(_HONEST_PREFIXES), size)]
    virtual = rng.random(size) < virtual_share
    prefixes[virtual] = _VIRTUAL_PREFIXES[rng.integers(0, len(_VIRTUAL_PREFIXES), virtual.sum())]
    return prefixes * 100_000_000 + rng.integers(0, 100_000_000, size)


def sample_virtual_phones(rng: np.random.Generator, size: int) -> IntArray:
    """Numbers on virtual operators (170/171/162/165/167)."""
    prefixes = _VIRTUAL_PREFIXES[rng.integers(0, len(_VIRTUAL_PREFIXES), size)]
    return prefixes * 100_000_000 + rng.integers(0, 100_000_000, size)


def sample_home_ips(rng: np.random.Generator, size: int) -> IntArray:
    """Broadband IPs as 32-bit integers."""
    blocks = _BROADBAND_BLOCKS[rng.integers(0, len(_BROADBAND_BLOCKS), size)]
    ips: IntArray = (
        (blocks[:, 0] << 24)
        + (blocks[:, 1] << 16)
        + (rng.integers(0, 256, size) << 8)
        + rng.integers(1, 255, size)
    )
    return ips


def format_ip(values: npt.NDArray[np.integer]) -> pa.Array:
    """Dotted-quad strings of 32-bit integer IPs."""
    ip = np.asarray(values, dtype=np.int64)
    octets = [numbers((ip >> shift) & 255) for shift in (24, 16, 8, 0)]
    return pc.binary_join_element_wise(*octets, ".")
