"""The story's Markdown: only our own images survive; a lone video link becomes a card."""

from crowdfund.domain.markup import render_markdown

OURS = "/story-images/abcdefghijklmnopqrstuvwxyzABCDEF.jpg"


def test_the_story_shows_our_images_and_no_others():
    html = render_markdown(
        f"Before\n\n![The workshop]({OURS})\n\n![tracker](https://evil.example/p.gif)\n\n"
        "![up](/story-images/../../etc/passwd.jpg) ![js](javascript:alert(1))\n\n"
        '<img src="/story-images/abcdefghijklmnopqrstuvwxyzABCDEF.jpg" onerror="alert(1)">',
        story_images=True,
    )
    assert f'<img alt="The workshop" src="{OURS}">' in html
    assert "evil.example" not in html and "passwd" not in html and "javascript" not in html
    assert "onerror" not in html
    assert html.count("<img") == 2  # ours, in Markdown and in raw HTML, without its handler


def test_comments_and_updates_show_no_images_at_all():
    assert "<img" not in render_markdown(f"![The workshop]({OURS})")


def test_a_lone_video_link_is_a_card_without_any_embed():
    html = render_markdown(
        "Watch it:\n\nhttps://www.youtube.com/watch?v=dQw4w9WgXcQ&t=10\n\n"
        "[The making of](https://vimeo.com/76979871)\n\n<https://www.bilibili.com/video/BV1xx411c7mD>\n\n"
        "https://v.youku.com/v_show/id_XNTk.html\n\n"
        "See https://youtu.be/abc in the middle of a sentence.\n\nhttps://example.com/video",
        story_images=True,
    )
    assert html.count('class="video-card"') == 4
    assert 'href="https://www.youtube.com/watch?v=dQw4w9WgXcQ&amp;t=10"' in html
    assert '<strong class="video-card-title">The making of</strong>' in html
    assert "Bilibili \u00b7 bilibili.com/video/BV1xx411c7mD" in html
    assert "YouTube \u00b7 youtube.com/watch?v=dQw4w9WgXcQ&amp;t=10" in html
    assert "Youku \u00b7 v.youku.com/v_show/id_XNTk.html" in html
    assert '<p>See <a href="https://youtu.be/abc"' not in html  # a link inside a sentence stays text
    assert "<p>See https://youtu.be/abc in the middle of a sentence.</p>" in html
    assert "<p>https://example.com/video</p>" in html  # not a video site: as written
    assert "<iframe" not in html and "<script" not in html


def test_a_card_cannot_be_used_to_smuggle_markup():
    html = render_markdown('[<b onclick="x">"hi"</b>](https://youtu.be/x?a="><script>)', story_images=True)
    assert "<script" not in html and "onclick" not in html
