"""Post content: the sanitiser (what it keeps and what it strips), the plain-text formatter, and the
promise that ties them together: Spark's own HTML passes through the sanitiser unchanged."""

import pytest

from spark_fed.content import (
    ALLOWED_CLASSES,
    LINK_REL,
    Formatted,
    find_hashtags,
    find_mentions,
    format_plain_text,
    normalize_tag,
    plain_text,
    sanitize_html,
)

LINK_ATTRS = f'target="_blank" rel="{LINK_REL}"'


# --- the sanitiser keeps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        "<p>one</p><p>two<br>three</p>",
        "<blockquote><p>quoted</p></blockquote>",
        "<p><code>x = 1</code></p><pre><code>def f():\n    return 1</code></pre>",
        "<ul><li>a</li><li>b</li></ul><ol><li>c</li></ol>",
        "<p><b>b</b> <strong>strong</strong> <i>i</i> <em>em</em> <u>u</u> <del>del</del> <s>s</s></p>",
        "<p><ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby></p>",
        '<ol start="3" reversed=""><li value="7">seven</li></ol>',
        '<p lang="de">Hallo</p>',
        '<span class="h-card" translate="no">x</span>',
    ],
)
def test_allowed_markup_is_kept_as_it_is(html: str) -> None:
    assert sanitize_html(html) == html


@pytest.mark.parametrize(
    "href",
    [
        "http://example.com/a",
        "https://example.com/a?b=1&amp;c=2#d",
        "mailto:alice@example.com",
        "HTTPS://EXAMPLE.COM",
    ],
)
def test_http_https_and_mailto_links_are_kept_with_rel_and_target(href: str) -> None:
    assert sanitize_html(f'<a href="{href}">link</a>') == f'<a href="{href}" {LINK_ATTRS}>link</a>'


@pytest.mark.parametrize("css_class", sorted(ALLOWED_CLASSES))
def test_mastodon_classes_are_kept_on_span_and_a(css_class: str) -> None:
    assert sanitize_html(f'<span class="{css_class}">x</span>') == f'<span class="{css_class}">x</span>'
    assert (
        sanitize_html(f'<a href="https://x.example/" class="{css_class}">x</a>')
        == f'<a href="https://x.example/" class="{css_class}" {LINK_ATTRS}>x</a>'
    )


def test_link_rel_keeps_tag_and_forces_the_safe_tokens_and_target() -> None:
    html = '<a href="https://m.example/tags/x" rel="tag me opener" target="_top">#x</a>'
    assert sanitize_html(html) == (
        f'<a href="https://m.example/tags/x" rel="tag {LINK_REL}" target="_blank">#x</a>'
    )


def test_translate_is_kept_only_when_it_says_no() -> None:
    assert sanitize_html('<span translate="no">a</span><span translate="yes">b</span>') == (
        '<span translate="no">a</span><span>b</span>'
    )


def test_empty_span_of_a_shortened_link_is_kept() -> None:
    html = (
        '<span class="invisible">https://</span><span class="">x.example</span>'
        '<span class="invisible"></span>'
    )
    assert sanitize_html(html) == html


# --- the sanitiser strips -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>a<script>alert(1)</script>b</p>", "<p>ab</p>"),
        ("<style>p { color: red }</style><p>a</p>", "<p>a</p>"),
        ('<p>a<iframe src="https://evil.example/"></iframe>b</p>', "<p>ab</p>"),
        ('<p>a<img src="https://evil.example/x.png" onerror="alert(1)">b</p>', "<p>ab</p>"),
        ('<p>a<svg onload="alert(1)"><text>svg</text></svg>b</p>', "<p>ab</p>"),
        ('<p>a<object data="https://evil.example/x"></object><embed src="x">b</p>', "<p>ab</p>"),
        ('<form action="https://evil.example/"><input name="q"><button>go</button></form>', "go"),
        ("<p>a<!-- comment -->b</p>", "<p>ab</p>"),
        ("<noscript><p>no</p></noscript><p>yes</p>", "<p>yes</p>"),
    ],
)
def test_dangerous_elements_are_removed(html: str, expected: str) -> None:
    assert sanitize_html(html) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<p onclick="alert(1)" onmouseover="x">a</p>', "<p>a</p>"),
        ('<p style="position:fixed;top:0">a</p>', "<p>a</p>"),
        ('<span id="x" title="t" data-x="1">a</span>', "<span>a</span>"),
        ('<a href="https://x.example/" onclick="alert(1)" style="color:red">a</a>', None),
    ],
)
def test_event_handlers_styles_and_unknown_attributes_are_removed(html: str, expected: str | None) -> None:
    expected = expected or f'<a href="https://x.example/" {LINK_ATTRS}>a</a>'
    assert sanitize_html(html) == expected


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java&#x09;script:alert(1)",
        "&#106;avascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "/relative/path",
        "//evil.example/protocol-relative",
        "gemini://example.com/",  # Mastodon keeps gemini/dat/ipfs links; Spark keeps only http(s)/mailto
        "ftp://example.com/file",
    ],
)
def test_links_to_other_schemes_become_their_text(href: str) -> None:
    out = sanitize_html(f'<p>go <a href="{href}" class="mention">there <b>now</b></a>!</p>')
    assert out == "<p>go there now!</p>"


def test_link_without_href_becomes_its_text() -> None:
    assert sanitize_html('<a name="x">anchor</a>') == "anchor"


def test_unknown_classes_are_removed_and_known_ones_kept() -> None:
    html = '<p class="quote-inline mention evil"><span class="invisible hidden-xs">x</span></p>'
    # `quote-inline` marks a quote's "RE: link" line, which readers hide beside the quoted card.
    assert sanitize_html(html) == '<p class="quote-inline mention"><span class="invisible">x</span></p>'
    assert sanitize_html('<b class="mention">b</b>') == "<b>b</b>"


def test_mutation_xss_classics_come_out_inert() -> None:
    payloads = [
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
        "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
        '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
        '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
        '<a href="https://ok.example/"><a href="javascript:alert(1)">inner</a></a>',
        "<scr<script>ipt>alert(1)</script>",
    ]
    for payload in payloads:
        out = sanitize_html(payload).lower()
        for bad in ("<img", "<script", "onerror", "javascript:", "<svg", "<math", "<style", "xlink"):
            assert bad not in out, (payload, out)


# --- Mastodon's transformers --------------------------------------------------------------------------


def test_headings_become_bold_paragraphs() -> None:
    assert sanitize_html("<h1>Title</h1><h6>small</h6>") == (
        "<p><strong>Title</strong></p><p><strong>small</strong></p>"
    )


def test_removed_block_elements_leave_a_space_between_words() -> None:
    assert plain_text(sanitize_html("<div>one</div><div>two</div>")) == "one two"
    assert plain_text("<table><tr><td>a</td><td>b</td></tr></table>") == "a b"


def test_math_becomes_its_tex_or_plain_annotation() -> None:
    def math(annotation: str, display: str = "") -> str:
        return (
            f"<p>x <math{display}><semantics><mrow><msup><mi>x</mi><mn>2</mn></msup></mrow>"
            f"{annotation}</semantics></math> y</p>"
        )

    tex = '<annotation encoding="application/x-tex">x^2</annotation>'
    text = '<annotation encoding="text/plain">x squared</annotation>'
    assert sanitize_html(math(tex)) == "<p>x $x^2$ y</p>"
    assert sanitize_html(math(tex, ' display="block"')) == "<p>x $$x^2$$ y</p>"
    assert sanitize_html(math(text)) == "<p>x x squared y</p>"
    assert sanitize_html(math("")) == "<p>x  y</p>"


def test_mastodon_note_content_keeps_its_shape() -> None:
    """Content as Mastodon 4.x writes it: everything survives; links only gain Spark's rel and target."""
    mention = '<a href="https://spark.example/@alice" class="u-url mention">'
    hashtag = '<a href="https://m.example/tags/spark" class="mention hashtag" rel="tag">'
    link = (
        '<a href="https://example.com/a-long-article/with/a/long/path" target="_blank" '
        'rel="nofollow noopener" translate="no">'
    )
    body = (
        '<p><span class="h-card" translate="no">{mention}@<span>alice</span></a></span> read '
        '{link}<span class="invisible">https://</span><span class="ellipsis">example.com/a-long-article/wit'
        '</span><span class="invisible">h/a/long/path</span></a> {hashtag}#<span>spark</span></a></p>'
        "<p>second &amp; last &lt;3</p>"
    )
    content = body.format(mention=mention, hashtag=hashtag, link=link)
    expected = body.format(
        mention=mention[:-1] + f" {LINK_ATTRS}>",
        hashtag=hashtag.replace('rel="tag"', f'rel="tag {LINK_REL}" target="_blank"'),
        link=link.replace('rel="nofollow noopener"', f'rel="{LINK_REL}"'),
    )
    assert sanitize_html(content) == expected
    assert sanitize_html(expected) == expected


def test_interop_reference_note_content() -> None:
    """The `content` of the Create(Note) in docs/interop.md (Notes)."""
    content = (
        '<p><span class="h-card"><a href="https://spark.example/@alice" class="u-url mention">@<span>alice'
        '</span></a></span> hi <a href="https://m.example/tags/spark" class="mention hashtag" rel="tag">#'
        "<span>spark</span></a></p>"
    )
    out = sanitize_html(content)
    assert out == content.replace('mention">', f'mention" {LINK_ATTRS}>', 1).replace(
        'rel="tag"', f'rel="tag {LINK_REL}" target="_blank"'
    )
    assert plain_text(out) == "@alice hi #spark"


@pytest.mark.parametrize(
    "html",
    [
        "<p>a<p>b",
        "<b><i>unclosed",
        "<pre>\n\nleading blank line</pre>",
        "<p>x &nbsp; y &amp; z</p>",
        '<a href="https://x.example/?a=1&b=&quot;2&quot;">q</a>',
        "<h2>h</h2><div>d</div>",
        '<math><semantics><annotation encoding="text/plain">m</annotation></semantics></math>',
        "",
        "plain text only",
    ],
)
def test_sanitising_twice_changes_nothing(html: str) -> None:
    once = sanitize_html(html)
    assert sanitize_html(once) == once


# --- plain text ---------------------------------------------------------------------------------------


def test_plain_text_keeps_the_breaks_a_reader_sees() -> None:
    html = (
        "<p>first line<br>second line</p><p>para <b>two</b></p>"
        "<ul><li>one</li><li>two</li></ul><blockquote><p>quote</p></blockquote>"
    )
    assert plain_text(html) == "first line\nsecond line\n\npara two\n\none\ntwo\n\nquote"


def test_plain_text_unescapes_drops_scripts_and_shows_whole_urls() -> None:
    html = (
        '<p>a &amp; b &lt;c&gt;<script>alert("x")</script> <a href="https://example.com/long/path">'
        '<span class="invisible">https://</span><span class="ellipsis">example.com/lo</span>'
        '<span class="invisible">ng/path</span></a></p>'
    )
    assert plain_text(html) == "a & b <c> https://example.com/long/path"


def test_plain_text_collapses_source_whitespace_but_not_in_pre() -> None:
    assert plain_text("<p>a\n   b</p><pre>  x\n    y</pre>") == "a b\n\n  x\n    y"


# --- formatting: structure and escaping ---------------------------------------------------------------

ALICE = ("https://spark.example/users/alice", "https://spark.example/@alice")
BOB_REMOTE = ("https://m.example/users/bob", "https://m.example/@bob")
BOB_LOCAL = ("https://spark.example/users/bob", "https://spark.example/@bob")
ACCOUNTS = {("alice", None): ALICE, ("bob", "m.example"): BOB_REMOTE, ("bob", None): BOB_LOCAL}


class Resolver:
    """The `link_mention` callback over a fixed table, counting its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def __call__(self, username: str, host: str | None) -> tuple[str, str] | None:
        self.calls.append((username, host))
        return ACCOUNTS.get((username.lower(), host.lower() if host else None))


def tag_url(name: str) -> str:
    return f"https://spark.example/tags/{name}"


def fmt(text: str) -> Formatted:
    return format_plain_text(text, link_mention=Resolver(), tag_url=tag_url)


def mention_html(profile_url: str, display: str) -> str:
    return (
        f'<span class="h-card" translate="no"><a href="{profile_url}" class="u-url mention" {LINK_ATTRS}>'
        f"@<span>{display}</span></a></span>"
    )


def hashtag_html(name: str) -> str:
    return (
        f'<a href="https://spark.example/tags/{name}" class="mention hashtag" rel="tag {LINK_REL}" '
        f'target="_blank">#<span>{name}</span></a>'
    )


def link_html(url: str, hidden: str, shown: str, rest: str = "", ellipsis: bool = False) -> str:
    shown_class = "ellipsis" if ellipsis else ""
    return (
        f'<a href="{url}" {LINK_ATTRS} translate="no"><span class="invisible">{hidden}</span>'
        f'<span class="{shown_class}">{shown}</span><span class="invisible">{rest}</span></a>'
    )


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("hello", "<p>hello</p>"),
        ("one\ntwo", "<p>one<br>two</p>"),
        ("one\n\ntwo", "<p>one</p><p>two</p>"),
        ("one\n\n\n\ntwo\nthree", "<p>one</p><p>two<br>three</p>"),
        ("one\r\ntwo\r\n\r\nthree", "<p>one<br>two</p><p>three</p>"),
        ("one\n   \ntwo", "<p>one</p><p>two</p>"),
        ("\n\n  padded  \n\n", "<p>padded</p>"),
        ("", ""),
        (" \n\n ", ""),
    ],
)
def test_paragraphs_and_line_breaks(text: str, html: str) -> None:
    assert fmt(text).html == html


def test_everything_is_escaped() -> None:
    out = fmt("<script>alert(\"x\")</script> & 'quotes' \u00a0nbsp").html
    assert out == "<p>&lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; 'quotes' &nbsp;nbsp</p>"
    assert sanitize_html(out) == out
    assert plain_text(out) == "<script>alert(\"x\")</script> & 'quotes' \u00a0nbsp"


def test_attribute_values_are_escaped() -> None:
    formatted = format_plain_text(
        "#tag", link_mention=Resolver(), tag_url=lambda name: f'https://x.example/t?n={name}&q="1"'
    )
    assert 'href="https://x.example/t?n=tag&amp;q=&quot;1&quot;"' in formatted.html
    assert sanitize_html(formatted.html) == formatted.html


# --- formatting: links --------------------------------------------------------------------------------


def test_url_is_linked_in_mastodons_shortened_shape() -> None:
    assert fmt("see https://example.com/page").html == (
        "<p>see " + link_html("https://example.com/page", "https://", "example.com/page") + "</p>"
    )


def test_long_url_is_cut_at_30_characters_with_an_ellipsis() -> None:
    url = "https://www.example.com/a-really-long-path/that/goes/on?x=1"
    assert fmt(url).html == (
        "<p>"
        + link_html(url, "https://www.", "example.com/a-really-long-path", "/that/goes/on?x=1", ellipsis=True)
        + "</p>"
    )


def test_url_one_character_too_long_is_not_cut() -> None:
    url = "https://example.com/" + "x" * 19  # 31 characters after the scheme
    assert fmt(url).html == "<p>" + link_html(url, "https://", url[len("https://") :]) + "</p>"


@pytest.mark.parametrize(
    ("text", "url", "after"),
    [
        ("go to https://example.com/a.", "https://example.com/a", ".</p>"),
        ("go to https://example.com/a, then", "https://example.com/a", ", then</p>"),
        ("is it https://example.com/a?", "https://example.com/a", "?</p>"),
        ("wow https://example.com/a!", "https://example.com/a", "!</p>"),
        ("(see https://example.com/a)", "https://example.com/a", ")</p>"),
        (
            "see https://en.wikipedia.org/wiki/Foo_(bar) now",
            "https://en.wikipedia.org/wiki/Foo_(bar)",
            " now</p>",
        ),
        ("(https://en.wikipedia.org/wiki/Foo_(bar))", "https://en.wikipedia.org/wiki/Foo_(bar)", ")</p>"),
        ('"https://example.com/q"', "https://example.com/q", '"</p>'),
        ("http://example.com/x?a=1&b=2 ok", "http://example.com/x?a=1&amp;b=2", " ok</p>"),
    ],
)
def test_trailing_punctuation_and_parentheses_stay_outside_the_link(text: str, url: str, after: str) -> None:
    html = fmt(text).html
    assert f'<a href="{url}" ' in html
    assert html.endswith("</a>" + after)
    assert sanitize_html(html) == html


@pytest.mark.parametrize(
    "text",
    [
        "example.com",
        "www.example.com/page",
        "alice@example.com",
        "mailto:alice@example.com",
        "ftp://example.com/file",
        "//example.com/x",
        "notalinkhttps://example.com",
    ],
)
def test_only_explicit_http_and_https_urls_are_linked(text: str) -> None:
    assert "<a" not in fmt(text).html


# --- formatting: mentions -----------------------------------------------------------------------------


def test_local_and_remote_mentions_link_to_the_profile() -> None:
    formatted = fmt("hi @alice and @bob@m.example!")
    assert formatted.html == (
        "<p>hi "
        + mention_html("https://spark.example/@alice", "alice")
        + " and "
        + mention_html("https://m.example/@bob", "bob")
        + "!</p>"
    )
    assert [(m.username, m.host, m.actor_url, m.profile_url) for m in formatted.mentions] == [
        ("alice", None, *ALICE),
        ("bob", "m.example", *BOB_REMOTE),
    ]
    assert [m.acct for m in formatted.mentions] == ["alice", "bob@m.example"]
    assert formatted.unresolved == ()


def test_unresolved_mention_stays_plain_text() -> None:
    formatted = fmt("hey @nobody@else.example and @ghost")
    assert formatted.html == "<p>hey @nobody@else.example and @ghost</p>"
    assert formatted.mentions == ()
    assert formatted.unresolved == (("nobody", "else.example"), ("ghost", None))


def test_callback_is_asked_once_per_account_whatever_the_case() -> None:
    resolver = Resolver()
    formatted = format_plain_text(
        "@alice @Alice @ALICE @bob@M.Example", link_mention=resolver, tag_url=tag_url
    )
    assert resolver.calls == [("alice", None), ("bob", "M.Example")]
    assert [m.actor_url for m in formatted.mentions] == [ALICE[0], BOB_REMOTE[0]]
    assert formatted.html.count('class="u-url mention"') == 4


def test_same_username_on_two_servers_shows_the_domain() -> None:
    formatted = fmt("@bob and @bob@m.example")
    assert formatted.html == (
        "<p>"
        + mention_html("https://spark.example/@bob", "bob")
        + " and "
        + mention_html("https://m.example/@bob", "bob@m.example")
        + "</p>"
    )


@pytest.mark.parametrize(
    "text",
    [
        "write to alice@example.com",  # an e-mail address
        "bob@m.example",
        "https://m.example/@bob",  # part of a URL
        "a=@alice",
        "path/@alice",
        "@alice@m.example@other",  # runs into another at sign
        "@alicé",  # runs into an accented letter
        "@alice://x",
        "@ alice",
        "@",
    ],
)
def test_not_a_mention(text: str) -> None:
    formatted = fmt(text)
    assert "mention" not in formatted.html
    assert formatted.mentions == () and formatted.unresolved == ()


@pytest.mark.parametrize(
    ("text", "username", "host"),
    [
        ("(@alice)", "alice", None),
        ("@alice: hi", "alice", None),
        ("cc.@alice.", "alice", None),
        ("@bob@m.example.", "bob", "m.example"),
        ("@Bob.Smith-Jr@sub.m.example, hi", "Bob.Smith-Jr", "sub.m.example"),
        ("@al@例え.jp", "al", "例え.jp"),
    ],
)
def test_mention_boundaries(text: str, username: str, host: str | None) -> None:
    assert find_mentions(text) == [(username, host)]


def test_find_mentions_lists_each_once_for_resolving_ahead() -> None:
    assert find_mentions("@alice @bob@m.example @Alice see https://x.example/@carol") == [
        ("alice", None),
        ("bob", "m.example"),
    ]


# --- formatting: hashtags -----------------------------------------------------------------------------


def test_hashtags_link_in_mastodons_shape() -> None:
    formatted = fmt("#café and #tag1!")
    assert formatted.html == "<p>" + hashtag_html("café") + " and " + hashtag_html("tag1") + "!</p>"
    assert formatted.tags == ("cafe", "tag1")
    assert [(t.name, t.normalized, t.url) for t in formatted.hashtags] == [
        ("café", "cafe", "https://spark.example/tags/café"),
        ("tag1", "tag1", "https://spark.example/tags/tag1"),
    ]


def test_same_tag_twice_is_listed_once() -> None:
    formatted = fmt("#Spark #spark #SPARK")
    assert formatted.tags == ("spark",)
    assert formatted.hashtags[0].name == "Spark"
    assert formatted.html.count("hashtag") == 3


@pytest.mark.parametrize(
    "text",
    [
        "#123",
        "#1",
        "issue#12",
        "https://example.com/page#section",
        "https://example.com/#tag",
        "ops#team@example.com",
        "alice@example.com#tag",
        "(#tag)",
        "#",
        "# heading",
        "#_",
    ],
)
def test_not_a_hashtag(text: str) -> None:
    formatted = fmt(text)
    assert "hashtag" not in formatted.html
    assert formatted.tags == ()


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("#tag1 #1tag #a1", ["tag1", "1tag", "a1"]),
        ("#日本語 #हिन्दी #Ελλάδα", ["日本語", "हिन्दी", "Ελλάδα"]),
        ("＃全角", ["全角"]),
        ("#a·b #snake_case #1_2", ["a·b", "snake_case", "1_2"]),
        ("start\n#newline", ["newline"]),
        ("#tag.", ["tag"]),
        ("#readhttps://example.com", ["read"]),
    ],
)
def test_hashtag_names(text: str, names: list[str]) -> None:
    assert find_hashtags(text) == [normalize_tag(name) for name in names]


def test_tag_normalisation_follows_mastodon() -> None:
    assert normalize_tag("Café") == "cafe"
    assert normalize_tag("ＣＡＦＥ") == "cafe"
    assert normalize_tag("Straße") == "strasse"
    assert normalize_tag("Ελλάδα") == "ελλάδα"  # only Latin letters are folded to ASCII
    assert normalize_tag("हिन्दी") == "हिन्दी"  # combining vowel signs stay
    assert normalize_tag("がっこう") == "がっこう"  # so do Japanese voiced marks


# --- formatting and sanitising together ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "hi @alice and @bob@m.example #café https://example.com/a-really-long-path/that/goes/on?x=1&y=2",
        "line <b>one</b>\nline & two\n\n\"para\" 'two' #tag1 (https://en.wikipedia.org/wiki/Foo_(bar))",
        "@bob @bob@m.example @nobody https://www.example.com/ #日本語 \u00a0",
        "https://example.com/" + "x" * 19,
    ],
)
def test_formatted_html_survives_the_sanitiser_unchanged(text: str) -> None:
    html = fmt(text).html
    assert sanitize_html(html) == html


def test_plain_text_of_formatted_html_is_the_original_text() -> None:
    text = "hi @alice #café\nsee https://www.example.com/a-really-long-path/that/goes/on?x=1&y=2\n\nbye <3"
    assert plain_text(fmt(text).html) == text


def test_mentions_keep_a_port_in_the_host() -> None:
    """Development and test servers (localhost:8080) have ports in their handles."""
    assert find_mentions("Hi @carol@127.0.0.1:4567!") == [("carol", "127.0.0.1:4567")]
    assert find_mentions("@a@localhost:8080 hi") == [("a", "localhost:8080")]
    assert find_mentions("at @a@b.example: noon") == [("a", "b.example")]
