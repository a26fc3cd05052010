"""Generate a realistic synthetic chat fine-tuning file for the lint benchmark.

    python -m benchmarks.gen_chat_dataset [--examples 100000] [--out bench-data/chat_100k.jsonl]

Mixed English and Chinese (and mixed-language) conversations, short and long, single- and
multi-turn, most with one of a few dozen system prompts; markdown lists and code blocks in some
replies; a long tail of very long answers. Deterministic for a given --seed. About 250 MB for
100k examples.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

_EN_WORDS_TEXT = (
    "the of and to in is that for it as with was on be by this are from at or an have not but "
    "they which you one had all there can were we if more when will would been has their what "
    "so about out up into than them some could only other time new these may first then do any "
    "like my now over such our man me even most made after also did many before must through "
    "years where much your way well down should because each just those people how too little "
    "state good very make world still own see men work long get here between both life being "
    "under never day same another know while last might us great old year off come since "
    "against go came right used take three model training data loss learning rate epoch batch "
    "token dataset example validation gradient network layer function value parameter error "
    "result output input system user assistant question answer request response customer order "
    "delivery refund account password server database query latency memory cache request "
    "configuration deploy release version update feature bug issue test build pipeline"
)
EN_WORDS = _EN_WORDS_TEXT.split(" ")
_ZH_WORDS_TEXT = (
    "我们 今天 模型 训练 数据 学习 问题 答案 用户 系统 助手 服务 客户 "
    "订单 退款 账户 时间 公司 技术 方法 结果 分析 需要 可以 因为 所以 "
    "但是 如果 已经 这个 那个 什么 怎么 为什么 非常 重要 发展 经济 社会 "
    "文化 教育 科学 研究 计算 网络 信息 安全 管理 产品 市场 价格 质量 "
    "环境 健康 医疗 交通 城市 生活 工作 学生 老师 朋友 家庭 孩子 北京 "
    "上海 中国 世界 问题 解决 提供 支持 帮助 了解 提高 增加 减少 使用 "
    "处理 完成 开始 继续 参数 损失 梯度 验证 评估 部署 版本 更新 功能 "
    "测试 构建 配置 数据库 服务器 缓存 延迟 内存"
)
ZH_WORDS = _ZH_WORDS_TEXT.split(" ")
SYSTEM_PROMPTS = [
    "You are a helpful assistant.",
    "You are a concise customer-support agent for an online store. Answer politely and briefly.",
    "你是一个乐于助人的中文助手，请用简洁准确的语言回答用户的问题。",
    "You are a senior Python engineer. Explain your reasoning, then give working code.",
    "You are a tutor for high-school mathematics. Guide the student step by step.",
    "你是一名专业的客服代表，负责处理订单、退款和物流相关的问题。",
    "You are Marv, a factual chatbot that is also sarcastic.",
    "You translate between English and Chinese. Keep names and numbers unchanged.",
] + [
    f"You are assistant #{i} of the ACME help desk. Follow policy {i % 7}: be accurate, cite the "
    "knowledge base article when you can, and escalate billing disputes to a human. "
    + "Never reveal internal notes. "
    * (i % 4)
    for i in range(24)
]


def _english(rng: random.Random, words: int) -> str:
    out: list[str] = []
    count = 0
    while count < words:
        n = rng.randint(5, 22)
        count += n
        sentence = rng.choices(EN_WORDS, k=n)
        sentence[0] = sentence[0].capitalize()
        if rng.random() < 0.15:
            sentence.insert(rng.randrange(n), str(rng.randint(1, 99999)))
        out.append(" ".join(sentence) + rng.choice([".", ".", ".", "?", "!", ","]))
    return " ".join(out)


def _chinese(rng: random.Random, words: int) -> str:
    parts: list[str] = []
    for _ in range(max(1, words // 8)):
        parts.append("".join(rng.choices(ZH_WORDS, k=rng.randint(4, 12))))
        parts.append(rng.choice(["，", "，", "。", "；", "？", "！"]))
    return "".join(parts)


def _text(rng: random.Random, lang: str, words: int, rich: bool) -> str:
    if lang == "en":
        body = _english(rng, words)
    elif lang == "zh":
        body = _chinese(rng, words)
    else:
        body = _english(rng, words // 2) + "\n" + _chinese(rng, words // 2)
    if rich and rng.random() < 0.3:
        items = "\n".join(f"- {_english(rng, 8)}" for _ in range(rng.randint(2, 6)))
        body += "\n\n" + items
    if rich and rng.random() < 0.12:
        code = "\n".join(
            f"    result_{i} = compute(data[{i}], rate={rng.random():.3f})  # step {i}"
            for i in range(rng.randint(3, 15))
        )
        body += f"\n\n```python\ndef run(data):\n{code}\n    return result_0\n```\n"
    return body


def make_example(rng: random.Random) -> dict[str, object]:
    lang = rng.choices(["en", "zh", "mixed"], weights=[55, 30, 15])[0]
    messages: list[dict[str, str]] = []
    if rng.random() < 0.7:
        messages.append({"role": "system", "content": rng.choice(SYSTEM_PROMPTS)})
    turns = rng.choices([1, 2, 3, 4, 6], weights=[45, 25, 15, 10, 5])[0]
    long_tail = rng.random() < 0.015
    for _ in range(turns):
        messages.append({"role": "user", "content": _text(rng, lang, rng.randint(4, 90), False)})
        words = rng.randint(800, 3000) if long_tail else int(rng.lognormvariate(3.75, 0.8))
        messages.append({"role": "assistant", "content": _text(rng, lang, max(2, words), True)})
    return {"messages": messages}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--out", default="bench-data/chat_100k.jsonl")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="\n") as handle:
        for _ in range(args.examples):
            handle.write(json.dumps(make_example(rng), ensure_ascii=False) + "\n")
    size = out.stat().st_size
    print(f"wrote {args.examples:,} examples, {size / 1e6:,.1f} MB to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
