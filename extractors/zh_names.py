"""Whether a word jieba tags as a person or place name can be one.

jieba's tag for a word in its dictionary is the tag the word had in jieba's source
corpus, not a reading of the sentence at hand, and for many common words it is a name
tag: 索引, 余弦, 明白, 道德 and 顾客 are "people" (nr), 长度, 深度 and 城市 "places" (ns).
Two checks keep such words out of the graph:

- shape: a Chinese personal name is a surname and one or two given-name characters
  (张三, 欧阳修); a foreign one is written in the characters used for transliteration
  (贝克汉姆, 伊涅斯塔). A "person" of neither shape is not a person: it may still name a
  thing (青蒿素), but not when it is two words (广泛传播, 水土保持) or two characters
  (明白, 道德: the common words).
- known common words: nouns of the technical and general vocabulary that do have a
  name's shape (余弦 starts with the surname 余, 张量 with 张), and nouns formed with an
  abstract suffix (多维度, 智能化, 严重性).
"""

from __future__ import annotations

from collections.abc import Callable

# Common Chinese surnames (about 200, nine people in ten carry one of them), less those
# that open more of the words jieba tags as names than names do (文明, 明白, 和尚, 安静,
# 单宁, 麦田, 宗祠, 师傅 ...).
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常康施牛樊葛邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿兰焦俞左柳甘祝"
    "包宁舒阮柯纪梅童凌毕季裴霍涂苗谷盛翁冉骆蓝辛靳管柴蒙鲍喻祁蒲房滕屈饶牟艾尤穆卓褚窦岑费"
    "卜晏卫佟臧闵邬卞姬栾隋荣巫寇桑郎甄仲虞敖巩池迟习区逯鞠裘娄华关茅成查"
)
COMPOUND_SURNAMES = frozenset(
    (
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
        "司徒", "夏侯", "令狐", "端木", "轩辕", "南宫", "独孤", "申屠", "西门", "澹台", "呼延",
    )
)
# Characters of the standard transliteration of foreign names (Xinhua's tables).
TRANSLITERATION = frozenset(
    "阿埃艾爱安昂奥巴拜班邦保鲍贝本比彼毕波伯博布查达戴丹道德迪蒂丁东杜多厄恩法菲费芬丰弗伏福"
    "盖甘冈戈格哥古瓜哈海汉豪赫亨洪胡华霍基吉加嘉贾杰捷金卡凯坎康考柯科克肯库夸奎拉莱赖兰朗劳"
    "勒雷蕾里理利莉连林琳隆卢鲁路伦罗洛马玛迈麦曼梅门蒙米密敏摩莫姆穆纳娜奈内尼涅宁纽努诺欧帕"
    "潘佩彭皮珀普奇齐乔切琴丘萨塞桑瑟森沙莎尚舍什圣施史斯松苏索塔泰坦汤唐特滕提图托瓦万旺威韦"
    "维温沃乌西希锡夏谢辛休雅亚扬耶伊因尤约泽扎詹佐茨兹卜默勃蒲伍瑞芙黛丽珊薇凡迦缪尔夫欣登居"
)
# Suffixes of abstract nouns: 长度, 严重性, 智能化 are not names of anything.
ABSTRACT_SUFFIXES = frozenset("度性率化")
# Common nouns jieba's dictionary tags as names (checked against it in the tests).
COMMON_WORDS = frozenset(
    (
        # technical vocabulary
        "索引", "余弦", "张量", "令牌", "长度", "深度", "维度", "广度", "日志", "加密", "解密",
        "哈希", "欧氏", "高阶", "纳米", "白银",
        # general vocabulary
        "明白", "文明", "道德", "智慧", "荣誉", "顾客", "高潮", "洪水", "山洪", "陈述", "许可",
        "张口", "白白", "黄牛", "杜鹃", "银杏", "玉米", "蓝天", "田园", "宝藏", "巨石",
        "范畴", "高达", "同仁", "郎中", "师生", "保健", "养老", "晋升", "晋级", "立功",
        "查明", "卓越", "祝贺", "诸如", "布满", "体操", "明珠", "毛利", "牟利", "鲁莽", "安保",
        "城市", "东西", "海洋", "太阳", "大国", "台风", "伦理", "美丽", "治安", "上市", "新建",
        "新鲜", "中断", "普及", "加盟", "嘉宾", "入口", "山坡", "都市", "长大", "上路", "井口",
        "新旧", "长眠", "外国", "开园", "高架桥", "海岛", "路桥", "牡丹", "上半场", "舞美",
        "原班人马", "山水", "海关", "两国",
    )
)


HONORIFICS = ("夫人", "先生", "女士")


def person_shaped(word: str) -> bool:
    """Whether `word` can be a person's name (see the module docstring); a name with an
    honorific (居里夫人) is one."""
    if _common(word):
        return False
    for honorific in HONORIFICS:
        if word.endswith(honorific) and len(word) > len(honorific):
            word = word[: -len(honorific)]
            break
    n = len(word)
    if word[:2] in COMPOUND_SURNAMES:
        return 3 <= n <= 4
    if word[0] in SURNAMES or (word[0] in "老小" and n == 2 and word[1] in SURNAMES):
        return 2 <= n <= 3
    return n >= 2 and all(ch in TRANSLITERATION or ch == "·" for ch in word)


def thing_shaped(word: str, is_word: Callable[[str], bool]) -> bool:
    """Whether a word jieba tags as a person, without a person's shape, still names a
    thing: three characters or more, one word rather than two (青蒿素, 藏书楼; not
    广泛传播 = 广泛 + 传播, not an idiom), and no known common word. `is_word` says
    whether a string is in the dictionary."""
    if len(word) < 3 or _common(word):
        return False
    return not any(is_word(word[:k]) and is_word(word[k:]) for k in range(2, len(word) - 1))


def place_shaped(word: str) -> bool:
    """Whether a word jieba tags as a place can be one: not a known common word."""
    return not _common(word)


def _common(word: str) -> bool:
    return word in COMMON_WORDS or (len(word) >= 3 and word[-1] in ABSTRACT_SUFFIXES)
