"""Feature extraction of the prompt-injection intent model: the reference the C++ validator
(rules/injection_intent.cpp) mirrors byte for byte. Standard library only.

A candidate is a cue hit [start, end) in a text. The model sees the window
[start - WINDOW, end + WINDOW) clipped to the text, and nothing else, so that block and stream
scanning decide alike. The window is tokenised into lowercase ASCII words (apostrophes and
hyphens between letters join: "don't" -> "dont", "role-play" -> "roleplay") and punctuation
marks (sentence end, colon, quote, newline). Each token is a word hash and, when the word is in
the hand-written lexicon, a class (IGNORE, RULES, PRIOR, REVEAL, ...). Features, hashed into
DIM buckets and summed with the weights of one code:
  1 word unigram, 2 class unigram, 3 bigram of (class or word), 4 ordered pairs of classes at
  most PAIR_SPAN tokens apart, 5 a word written in capitals (DAN vs Dan).
"""

WINDOW = 160
DIM = 1 << 14
PAIR_SPAN = 6
MASK = 0xFFFFFFFF


def fnv1a(data):
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & MASK
    return h


def mix(t, a, b):
    x = ((t * 0x9E3779B1) ^ a) & MASK
    x = (x * 0x85EBCA6B) & MASK
    x ^= x >> 13
    x ^= b
    x = (x * 0xC2B2AE35) & MASK
    x ^= x >> 16
    return x


def forms(stem):
    """The word and its usual inflections (over-generation is harmless: unseen words)."""
    out = {stem}
    if stem.endswith("e"):
        out |= {stem + "s", stem + "d", stem[:-1] + "ing"}
    elif stem.endswith("y") and len(stem) > 3 and stem[-2] not in "aeiou":
        out |= {stem[:-1] + "ies", stem[:-1] + "ied", stem + "ing"}
    elif stem.endswith(("s", "sh", "ch", "x")):
        out |= {stem + "es", stem + "ed", stem + "ing"}
    else:
        out |= {stem + "s", stem + "ed", stem + "ing"}
    return out


# Class names in order; ids are 1-based positions. Punctuation classes first.
LEXICON = [
    ("EOS", []), ("COLON", []), ("QUOTE", []), ("NL", []),
    ("IGNORE", "ignore disregard forget forgot forgotten override overridden overrode overrule "
               "bypass discard dismiss abandon scrap ditch nullify void unlearn disobey circumvent "
               "sidestep neglect overlook erase wipe revoke supersede cancel suspend drop skip "
               "toss defy evade violate disable deactivate reset obsolete null invalid invalidate "
               "irrelevant disobey scratch".split()),
    ("RULES", "instruction instructions directive directives direction directions rule rules "
              "guideline guidelines guidance programming programmed orders order command commands "
              "constraints constraint protocol protocols mandate briefing conditioning "
              "training trained told instructed setup script ruleset".split()),
    ("PROMPT", "prompt prompts preprompt prompting".split()),
    ("LIMITS", "restriction restrictions limit limits limitation limitations filter filters "
               "filtered censorship censor censored boundaries boundary guardrail guardrails "
               "safeguard safeguards ethics ethical morals moral morality policy policies safety "
               "alignment moderation moderated principles conscience values scruples "
               "legality laws law".split()),
    ("PRIOR", "previous prior above earlier preceding foregoing former old existing initial "
              "original past preexisting aforementioned before beforehand preceded previously "
              "first starting startup initialization initialisation underlying".split()),
    ("SYS", "system developer developers hidden secret internal confidential operator operators "
            "preset builtin base core meta backend creators creator devs admin administrator "
            "configuration config configured".split()),
    ("REVEAL", "reveal show print repeat output display dump leak disclose expose share recite "
               "paste copy write type spell tell give list return echo reproduce quote provide "
               "send summarize summarise translate enumerate transcribe read post describe "
               "paraphrase regurgitate divulge".split()),
    ("VERBATIM", "verbatim exactly exact literally unabridged word entirety raw unedited "
                 "wordforword".split()),
    ("QUANT", "all every any each everything anything whatever entire whole full complete "
              "everyone".split()),
    ("YOU", "you your yours yourself u ur youre youve youll youd thou thy".split()),
    ("ME", "me us i my im ive mine".split()),
    ("NEG", "not no never dont doesnt without none nothing neither nor cant cannot wont isnt "
            "arent shouldnt mustnt zero".split()),
    ("PERSONA", "pretend roleplay role act acting behave simulate emulate impersonate embody "
                "become play portray persona character identity alter ego personality "
                "transform channel assume adopt incarnation".split()),
    ("NOW", "now henceforth onwards onward hereafter forth moment forward anymore longer "
            "instead".split()),
    ("FREE", "unrestricted unfiltered uncensored unlimited unbound unbounded unchained unshackled "
             "liberated freed free jailbroken jailbreak jailbreaking rogue amoral unethical "
             "immoral evil lawless limitless boundless uninhibited unconstrained unrestrained "
             "untethered unmoderated ruthless".split()),
    ("REFUSE", "refuse refuses refusal refusals refusing decline declines reject warn warning "
               "warnings disclaimer disclaimers apologize apologise sorry moralize lecture "
               "hold".split()),
    ("MODAL", "must will shall should need needs have going gonna want wish require "
              "required".split()),
    ("POLITE", "please kindly pls plz".split()),
    ("AI", "ai assistant model chatbot bot llm gpt chatgpt claude gemini bard llama "
           "agent machine intelligence openai anthropic".split()),
    ("TEMPLATE", "dan stan dude aim developer mode modes tokens token deducted stay classic "
                 "opposite antigpt betterdan machiavellian hypothetical hypothetically "
                 "fictional fiction simulation grandma grandmother deceased immerse enabled "
                 "activated unlocked stands".split()),
    ("META", "article paper example examples attack attacks attacker attackers injection "
             "injections researchers research detect detection detector classifier phrase "
             "phrases string strings says said saying wrote writes mentions called known "
             "common technique techniques explain explains explaining describe meaning means "
             "term defend defense defence prevent prevention mitigate mitigation security "
             "test tests testing dataset malicious adversarial payload blog talk "
             "presentation course lecture slide slides owasp red team taxonomy flag flags "
             "flagged recognise recognize why how what does".split()),
    ("BIZ", "email emails mail invoice invoices draft file files document documents report "
            "reports meeting notes ticket tickets chapter version typo typos error errors "
            "formatting spelling grammar numbers slide attachment question step steps recipe "
            "settings setting default defaults css function method parameter flag variable "
            "class field column value build branch commit line lines code cache deadline "
            "schedule budget thermostat manual readme package shelf washing game chess "
            "router log logs spreadsheet invoice customer meeting".split()),
    ("CONV", "conversation chat message messages context window text words sentence line "
             "lines session history turn".split()),
    ("ROLEPLAY_OK", "translator proofreader tutor teacher interviewer librarian chef coach "
                    "guide pirate knight detective reviewer shakespeare sherlock story "
                    "novel poem kids kid child children family friendly".split()),
]

CLASS_ID = {}
WORD_CLASS = {}
for i, (name, words) in enumerate(LEXICON):
    CLASS_ID[name] = i + 1
    for w in words:
        for f in forms(w):
            # The first class listed wins a word two classes would claim.
            WORD_CLASS.setdefault(f, i + 1)

CLASS_BASE = 0x1000  # a class's "rep" in bigrams: CLASS_BASE + id, never a plausible word hash


def is_word_byte(b):
    return 48 <= b <= 57 or 65 <= b <= 90 or 97 <= b <= 122


def tokens(data, lo, hi):
    """Yields (word_hash, class_id, all_caps) for data[lo:hi] (bytes). Punctuation tokens have
    word_hash 0."""
    i = lo
    while i < hi:
        b = data[i]
        if is_word_byte(b):
            h = 0x811C9DC5
            upper = 0
            letters = 0
            while i < hi:
                b = data[i]
                if is_word_byte(b):
                    if 65 <= b <= 90:
                        upper += 1
                        b += 32
                    if 97 <= b <= 122:
                        letters += 1
                    h = ((h ^ b) * 0x01000193) & MASK
                    i += 1
                    continue
                # ' - and U+2019 between word bytes join the word
                if b in (39, 45) and i + 1 < hi and is_word_byte(data[i + 1]):
                    i += 1
                    continue
                if b == 0xE2 and i + 3 < hi and data[i + 1] == 0x80 and data[i + 2] == 0x99 \
                        and is_word_byte(data[i + 3]):
                    i += 3
                    continue
                break
            yield h, WORD_CLASS_BY_HASH.get(h, 0), letters >= 2 and upper == letters
            continue
        c = 0
        if b in (46, 33, 63):
            c = CLASS_ID["EOS"]
        elif b == 58:
            c = CLASS_ID["COLON"]
        elif b in (34, 96, 39):
            c = CLASS_ID["QUOTE"]
        elif b == 10:
            c = CLASS_ID["NL"]
        elif b == 0xE2 and i + 2 < hi and data[i + 1] == 0x80 and data[i + 2] in (0x9C, 0x9D):
            c = CLASS_ID["QUOTE"]
            i += 2
        i += 1
        if c:
            yield 0, c, False


WORD_CLASS_BY_HASH = {}
for _w, _c in WORD_CLASS.items():
    _h = fnv1a(_w.encode())
    assert _h not in WORD_CLASS_BY_HASH or WORD_CLASS_BY_HASH[_h] == _c, _w
    WORD_CLASS_BY_HASH[_h] = _c


def features(data, start, end):
    """Bucket indices (with repeats) of the window around data[start:end] (bytes)."""
    return [k for k, _ in typed_features(data, start, end)]


def typed_features(data, start, end):
    """features() with, for each, whether it depends on a word outside the lexicon (the
    trainer regularises those harder: the lexicon classes are what generalises)."""
    lo = max(0, start - WINDOW)
    hi = min(len(data), end + WINDOW)
    out = []
    prev_rep = 0
    recent = [0] * PAIR_SPAN  # classes of the last PAIR_SPAN tokens (0: none)
    for h, c, caps in tokens(data, lo, hi):
        rep = CLASS_BASE + c if c else h
        if h:
            out.append((mix(1, h, 0) & (DIM - 1), not c))
        if c:
            out.append((mix(2, c, 0) & (DIM - 1), False))
            for pc in recent:
                if pc:
                    out.append((mix(4, pc, c) & (DIM - 1), False))
        out.append((mix(3, prev_rep, rep) & (DIM - 1), not c or prev_rep < CLASS_BASE or prev_rep > CLASS_BASE + 255))
        if caps:
            out.append((mix(5, h, 0) & (DIM - 1), True))
        prev_rep = rep
        recent = recent[1:] + [c]
    return out
