"""The Chinese demo shop's vocabulary: six themes with brands, product words, sizes, and the shop's boilerplate.

Data for :mod:`uig_core.demo.zh`. Titles look like a Chinese marketplace's: brand, qualifiers and product word run
together, a size or count, and shop boilerplate (官方旗舰店, 正品, 包邮, 新款) that says nothing about the item.
Two traps are planted on purpose: 挂耳咖啡 (drip-bag coffee) shares the character 耳 with 耳机 (earphones), and
brands of several themes sit in the same titles' positions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

__all__ = ["ZH_THEMES", "ZhTheme", "BOILERPLATE", "ZH_EVENTS"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ZhTheme:
    """A planted theme: its key, category path, brands, product words, qualifiers, sizes, searches, prices."""

    key: str
    category: str
    brands: tuple[str, ...]
    products: tuple[str, ...]
    qualifiers: tuple[str, ...]
    sizes: tuple[str, ...]
    queries: tuple[str, ...]
    price: tuple[float, float]


def _t(text: str) -> tuple[str, ...]:
    return tuple(text.split())


ZH_THEMES: tuple[ZhTheme, ...] = (
    ZhTheme(
        "lipstick",
        "美妆>彩妆>口红",
        _t("兰蔻 迪奥 圣罗兰 阿玛尼 魅可 花西子 完美日记 香奈儿"),
        _t("口红 唇膏 唇釉 口红礼盒 哑光口红 丝绒口红 滋润唇膏 唇彩"),
        _t("丝绒 哑光 滋润 显白 持久 不脱色 正红色 豆沙色 小金条 小样"),
        _t("3.5g 3g 2.5g 1.6g 5支装 3支装"),
        _t("口红 哑光口红 口红礼盒 唇膏 显白口红 兰蔻口红 迪奥口红 唇釉"),
        (59, 420),
    ),
    ZhTheme(
        "mask",
        "美妆>护肤>面膜",
        _t("森田 美迪惠尔 百雀羚 自然堂 珀莱雅 膜法世家 一叶子 欧莱雅"),
        _t("面膜 补水面膜 保湿面膜 睡眠面膜 清洁泥膜 面膜贴 玻尿酸面膜"),
        _t("补水 保湿 美白 修护 提亮 控油 清洁 紧致 敏感肌"),
        _t("30片 10片 5片 20片 100g 25ml×10"),
        _t("面膜 补水面膜 保湿面膜 睡眠面膜 泥膜 玻尿酸面膜 美白面膜"),
        (29, 199),
    ),
    ZhTheme(
        "running",
        "运动>鞋>跑鞋",
        _t("耐克 阿迪达斯 李宁 安踏 特步 亚瑟士 新百伦 361度"),
        _t("跑鞋 跑步鞋 运动鞋 慢跑鞋 马拉松跑鞋 缓震跑鞋 竞速跑鞋"),
        _t("缓震 透气 轻便 减震 防滑 男款 女款 网面 回弹"),
        _t("42码 41码 40码 39码 43码 38码"),
        _t("跑鞋 跑步鞋 缓震跑鞋 马拉松跑鞋 运动鞋 耐克跑鞋 透气跑鞋"),
        (199, 1299),
    ),
    ZhTheme(
        "coffee",
        "食品>饮料>咖啡",
        _t("星巴克 雀巢 三顿半 隅田川 瑞幸 永璞 illy 麦斯威尔"),
        _t("咖啡 挂耳咖啡 速溶咖啡 咖啡豆 冷萃咖啡 咖啡粉 拿铁咖啡 美式咖啡"),
        _t("挂耳 速溶 冷萃 深烘 中烘 无糖 黑咖啡 拿铁 美式 精品"),
        _t("10袋 24颗 500g 1.8kg 250g 48条"),
        _t("咖啡 挂耳咖啡 速溶咖啡 咖啡豆 黑咖啡 冷萃咖啡 美式咖啡"),
        (39, 259),
    ),
    ZhTheme(
        "catfood",
        "宠物>猫>猫粮",
        _t("皇家 渴望 冠能 伟嘉 麦富迪 网易严选 比瑞吉 爱肯拿"),
        _t("猫粮 成猫猫粮 幼猫猫粮 全价猫粮 冻干猫粮 猫粮套装"),
        _t("全价 成猫 幼猫 无谷 冻干 鸡肉味 三文鱼 高蛋白 室内"),
        _t("2kg 1.5kg 10kg 4kg 500g 1.8kg"),
        _t("猫粮 成猫猫粮 幼猫猫粮 冻干猫粮 无谷猫粮 全价猫粮"),
        (49, 599),
    ),
    ZhTheme(
        "earphones",
        "数码>影音>耳机",
        _t("森海塞尔 索尼 苹果 华为 小米 漫步者 铁三角 BOSE"),
        _t("耳机 蓝牙耳机 降噪耳机 头戴式耳机 无线耳机 入耳式耳机 运动耳机"),
        _t("降噪 无线 蓝牙 头戴式 入耳式 真无线 主动降噪 高音质 半入耳"),
        _t("1只装 2只装 黑色 白色 银色 蓝色"),
        _t("耳机 蓝牙耳机 降噪耳机 无线耳机 头戴式耳机 索尼耳机 运动耳机"),
        (99, 2999),
    ),
)
"""The planted themes, in a fixed order."""

#: Shop boilerplate put into titles at random: none of it says what the item is.
BOILERPLATE: tuple[str, ...] = _t(
    "官方旗舰店 官方旗舰店正品 正品 包邮 新款 2024新款 官方正品 旗舰店 正品保证 顺丰包邮 热卖"
)

#: Event values as a Taobao-style log writes them (pv / fav / cart / buy), plus the search rows.
ZH_EVENTS: tuple[str, ...] = ("pv", "fav", "cart", "buy", "search")
