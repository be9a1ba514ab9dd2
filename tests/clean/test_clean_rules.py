"""Line rules on small hand-written dumps: what goes, and what must stay."""

from __future__ import annotations

from monitor.clean import Phrases, line_key, strip_lines

BODY = "Officials said the brigade had moved north overnight, according to two sources."


def _strip(phrases: Phrases, text: str, title: str | None = None) -> tuple[list[str], list[str]]:
    out = strip_lines(text.split("\n"), phrases, title)
    return list(out.kept), [r.rule for r in out.removed]


def test_body_sentence_with_boilerplate_words_stays(phrases: Phrases) -> None:
    lines = [
        "Readers were asked to subscribe to the ministry's channel for updates on the evacuation.",
        "Please enter the shelter when the sirens sound, the mayor told residents on Monday.",
        "Read also the statement of the General Staff, which lists every unit that was moved.",
        "Related reports from Kharkiv mention the same brigade and the same dates of the attack.",
        "Comments from the ministry were not available by the time this article was published.",
    ]
    kept, removed = _strip(phrases, "\n".join(lines))
    assert kept == lines
    assert removed == []


def test_inline_read_also_removes_one_line(phrases: Phrases) -> None:
    kept, removed = _strip(phrases, f"{BODY}\nRead also: Russia moves troops to Kursk\n{BODY}")
    assert kept == [BODY, BODY]
    assert removed == ["related_block"]


def test_block_stops_at_the_article(phrases: Phrases) -> None:
    text = "\n".join(["Read more", "- One headline here", "- Another headline here", BODY])
    kept, removed = _strip(phrases, text)
    assert kept == [BODY]
    assert removed == ["related_block"] * 3


def test_block_of_plain_headlines_stops_at_a_sentence(phrases: Phrases) -> None:
    text = "\n".join(["Читайте також", "Росія перекидає війська на Курщину", "", BODY])
    kept, removed = _strip(phrases, text)
    assert kept == [BODY]
    assert removed == ["related_block"] * 2


def test_ukrainian_and_russian_phrases(phrases: Phrases) -> None:
    text = "\n".join(
        [
            BODY,
            "Залишити коментар",
            "Ваша адреса електронної пошти не буде опублікована.",
            "Підписуйтесь на наш Telegram-канал",
            "Оставить комментарий",
            "Подписывайтесь на наш канал в Telegram",
            "Читайте также: Путин подписал договор с КНДР",
        ]
    )
    kept, removed = _strip(phrases, text)
    assert kept == [BODY]
    assert removed == [
        "comment_form",
        "comment_form",
        "subscribe",
        "comment_form",
        "subscribe",
        "related_block",
    ]


def test_chrome_above_headline_only_when_short(phrases: Phrases) -> None:
    title = "Ukraine says it fought North Korean troops"
    kept, removed = _strip(phrases, f"close\nSome Site\n{title}\n{BODY}", title)
    assert kept == [BODY]
    assert removed == ["site_chrome", "site_chrome", "headline"]
    # A paragraph above the title line: this is not the top of a page, touch nothing.
    kept, removed = _strip(phrases, f"{BODY}\n{title}\n{BODY}", title)
    assert kept == [BODY, title, BODY]
    assert removed == []


def test_headline_guess_without_title(phrases: Phrases) -> None:
    out = strip_lines(["Menu", "Troops cross the river at dawn", BODY], phrases)
    assert out.title == "Troops cross the river at dawn"
    assert list(out.kept) == [BODY]
    # A first line that reads as a sentence is body text, never a guessed headline.
    out = strip_lines([BODY, BODY], phrases)
    assert out.title is None
    assert list(out.kept) == [BODY, BODY]


def test_dateline_only_near_the_top(phrases: Phrases) -> None:
    out = strip_lines(
        ["Headline about the front line", "Kyiv • UNN", BODY],
        phrases,
        "Headline about the front line",
    )
    assert out.dateline == "Kyiv • UNN"
    out = strip_lines(
        ["Заголовок новини про фронт", "Київ • УНН", BODY], phrases, "Заголовок новини про фронт"
    )
    assert out.dateline == "Київ • УНН"
    late = [BODY, BODY, BODY, "Kyiv • UNN"]
    assert strip_lines(late, phrases).dateline is None


def test_credits_date_stamps_and_prompts(phrases: Phrases) -> None:
    text = "\n".join(
        [
            BODY,
            "Photo: Reuters",
            "(Credit: Ukrainian General Staff)",
            "Фото: УНН",
            "Last updated 14.02.2024",
            "Оновлено 12:30",
            "If you enjoyed reading this, please support our newsroom",
            "Updated figures from the General Staff show 1,200 losses.",
        ]
    )
    kept, removed = _strip(phrases, text)
    assert kept == [BODY, "Updated figures from the General Staff show 1,200 losses."]
    assert removed == ["media_credit"] * 3 + ["updated"] * 2 + ["support_prompt"]


def test_copyright_notices_and_widget_prompts_go_but_sentences_stay(phrases: Phrases) -> None:
    text = "\n".join(
        [
            BODY,
            "Copyright 2016 WXYZ-TV. All rights reserved.",
            "(©2016 Example Media. All Rights Reserved.)",
            "Copyright holders sued the platform over the leaked footage.",
            "Please enable JavaScript to watch this video",
            "Just One More Thing...",
            "Email notifications are only sent once a day, and only if there are new items.",
        ]
    )
    kept, removed = _strip(phrases, text)
    assert kept == [BODY, "Copyright holders sued the platform over the leaked footage."]
    assert removed == ["site_chrome"] * 3 + ["account_prompt"] * 2


def test_social_app_and_account_widgets_go_but_sentences_stay(phrases: Phrases) -> None:
    text = "\n".join(
        [
            BODY,
            "Follow WXYZ.COM: Facebook | Twitter",
            "Join The Conversation On The WXYZ Facebook Page",
            "Download the WXYZ 7 News app.",
            "WXYZ News App - Install or update on your: iPhone | Android",
            "Download the app and the police report were shared by the family's lawyer.",
            "Like this: Like Loading...",
            "Share this: Facebook",
            "3 of 3 Premium Clicks used this month",
            "Your notification has been saved.",
            "Already have an account?",
            "Sign up for one of our email newsletters.",
        ]
    )
    kept, removed = _strip(phrases, text)
    assert kept == [
        BODY,
        "Download the app and the police report were shared by the family's lawyer.",
    ]
    assert removed == (["site_chrome"] * 4 + ["comment_form", "share"] + ["account_prompt"] * 4)


def test_line_key_strips_what_the_decoration_patterns_match() -> None:
    from monitor.clean.phrases import _LEAD, _SPACES, _TRAIL

    # line_key strips with str methods; these regexes are what it must equal.
    assert "".join(c for c in map(chr, range(0x110000)) if c.isspace()) == _SPACES
    samples = ["› Read more: ", " \u00a0• Related »\u2003", "Title.\n", "-- ...", "(a) [b]", "::"]
    for line in samples:
        expected = " ".join(_TRAIL.sub("", _LEAD.sub("", line)).casefold().split())
        assert line_key(line) == expected


def test_a_video_playlist_goes_but_a_timeline_and_two_clips_stay(phrases: Phrases) -> None:
    playlist = [
        "1:11 Coach explains how the team reached the tournament Pause",
        "0:48 Council member calls out the county on road problems",
        "1:13 VIDEO: Giant anteater born at the city zoo",
        "12:01 Plant receives a big piece of equipment",
    ]
    timeline = [
        "9:15 a.m. Police arrive at the scene",
        "9:40 AM A second ambulance leaves",
        "10:05 ET The street reopens",
    ]
    two_clips = ["2:30 The mayor's statement", "3:10 Neighbours describe the night"]
    kept, removed = _strip(phrases, "\n".join([BODY, *playlist, *timeline, *two_clips, BODY]))
    assert kept == [BODY, *timeline, *two_clips, BODY]
    assert removed == ["video_playlist"] * 4


def test_a_playlist_run_is_broken_by_text(phrases: Phrases) -> None:
    long_entry = "1:02 " + " ".join(["word"] * 30)
    lines = ["1:11 First clip title", "0:48 Second clip title", long_entry, "1:13 Third clip"]
    kept, removed = _strip(phrases, "\n".join([BODY, *lines]))
    assert kept == [BODY, *lines]
    assert removed == []
