"""Normalised keys so that spellings of one name meet ("OpenAI" / "openai" / "ＯｐｅｎＡＩ")."""

from __future__ import annotations

import re
import unicodedata

from kgrag.core.text import HAN

# Traditional -> simplified for common characters in names (places, people, companies).
# A small built-in table: a full converter (OpenCC) is a download we cannot make here.
_T2S_PAIRS = (
    "國国學学會会華华東东車车電电語语說说們们個个來来時时為为這这與与長长開开發发經经"
    "關关點点對对業业實实現现進进動动體体機机過过當当後后還还從从種种樣样問问題题應应"
    "區区義义萬万書书寫写無无員员門门見见間间聽听讓让陸陆臺台灣湾廣广廠厂歲岁歷历產产"
    "傳传億亿價价僅仅兒儿內内兩两劃划劇剧務务勝胜勞劳協协單单衛卫參参號号嗎吗圖图團团"
    "圓圆報报場场壓压壞坏處处備备夠够夢梦奪夺婦妇孫孙寶宝將将專专導导層层島岛幣币師师"
    "幫帮廳厅張张強强彈弹復复徵征態态憲宪戰战戲戏戶户擊击據据擴扩攝摄數数斷断晉晋條条"
    "龍龙鳥鸟魚鱼馬马黃黄齊齐陳陈劉刘趙赵吳吴鄭郑謝谢羅罗許许韓韩馮冯鄧邓葉叶蘇苏盧卢"
    "蔣蒋蕭萧錢钱楊杨紐纽約约倫伦蘭兰爾尔亞亚聯联歐欧遼辽寧宁陝陕貴贵雲云鄉乡縣县鎮镇"
    "鐵铁銀银鋼钢醫医藥药療疗驗验證证議议論论計计設设訊讯記记課课試试詞词譯译讀读調调"
    "談谈請请認认識识變变觀观覺觉親亲視视規规則则網网絡络統统組组織织結结給给紅红綠绿"
    "線线練练級级紀纪維维總总續续節节範范築筑簡简類类質质費费資资賽赛貿贸購购買买賣卖"
    "運运遠远達达選选邊边連连週周鄰邻錄录鍵键閱阅隊队際际陽阳陰阴隨随雙双雜杂難难靈灵"
    "頁页項项順顺預预領领頭头頻频顏颜願愿風风飛飞飯饭館馆驅驱髮发鬥斗麥麦麼么黨党齡龄"
    "龜龟憶忆愛爱慶庆懷怀戀恋擁拥擇择擔担換换損损搶抢撥拨敗败敵敌曆历樂乐標标樹树橋桥"
    "權权歡欢歸归殘残氣气漢汉濟济滅灭滿满潔洁澤泽濱滨災灾烏乌熱热燈灯爭争牆墙獎奖獨独"
    "獲获環环畫画畢毕疊叠盡尽監监盤盘礎础確确礙碍禮礼禍祸稅税穩稳窮穷競竞筆笔糧粮糾纠"
    "紙纸細细終终綜综緊紧編编緣缘縮缩績绩繼继罰罚習习聖圣聞闻聲声職职腦脑臨临興兴舉举"
    "舊旧艦舰藝艺蘋苹蟲虫術术衝冲補补製制複复覽览訂订訪访診诊評评詳详誌志誤误誰谁諾诺"
    "謀谋講讲護护讚赞貝贝負负財财貨货責责貸贷賀贺賓宾贏赢趕赶軍军軟软載载輕轻輪轮輸输"
    "轉转辦办農农邏逻郵邮釋释針针錯错鍋锅閉闭閒闲陣阵險险雖虽離离雞鸡靜静響响頂顶額额"
    "顧顾顯显飲饮餘余騰腾鮮鲜鳳凤麗丽齒齿臉脸眾众衆众軟软訊讯奧奥紹绍齋斋廟庙僑侨擬拟"
    "樓楼構构歐欧灣湾聯联營营嶺岭漁渔礦矿線线罷罢薩萨賴赖蘭兰鋒锋釣钓衛卫頓顿館馆"
)
_T2S = str.maketrans(
    {_T2S_PAIRS[i]: _T2S_PAIRS[i + 1] for i in range(0, len(_T2S_PAIRS), 2)}
)

_SEPARATORS = re.compile(r"[-_/\\·・]+")
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{HAN}])\s+|\s+(?=[{HAN}])")
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+(?=\S)")
_POSSESSIVE = re.compile(r"['’]s\b")


def to_simplified(text: str) -> str:
    """Map the traditional characters of the built-in table to their simplified forms."""
    return text.translate(_T2S)


def normalize_key(name: str) -> str:
    """Key for merging names: NFKC (full/half width), simplified Chinese, case fold,
    separators to spaces, other punctuation dropped, whitespace collapsed, a leading
    English article and a possessive "'s" dropped ("the UN's" meets "UN")."""
    text = unicodedata.normalize("NFKC", name)
    text = _POSSESSIVE.sub("", to_simplified(text).casefold())
    text = _SEPARATORS.sub(" ", text)
    text = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if not unicodedata.category(ch).startswith("P")
    )
    text = " ".join(text.split())
    text = _SPACE_NEAR_CJK.sub("", text)
    return _LEADING_ARTICLE.sub("", text)
