"""Wikipedia markup is stripped to readable text, and pages are filtered and split sensibly."""
from common.sources.wikitext import split_passages, strip_markup, wiki_articles

WIKITEXT = """{{Infobox element|name=Albedo|{{nested|x}}}}
'''Albedo''' ({{IPAc-en|æ|l|ˈ|b|iː|d|oʊ}}) is the [[diffuse reflection|diffuse reflectivity]] of a [[surface]].<ref>Coakley 2003</ref> It is measured from 0 to 1.
[[File:Albedo.png|thumb|A [[map]] of albedo]]

== History ==
The term was introduced by [[Johann Heinrich Lambert]] in 1760.<!-- a comment -->
{| class="wikitable"
| cell || cell
|}
* short item
[[Category:Climate]]
"""


def test_strip_markup_keeps_sentences_and_link_labels_only():
    text = strip_markup(WIKITEXT)
    assert text.startswith("Albedo is the diffuse reflectivity of a surface. It is measured from 0 to 1.")
    assert "The term was introduced by Johann Heinrich Lambert in 1760." in text
    for debris in ("{{", "[[", "<ref", "Coakley", "History", "wikitable", "short item", "Category", "comment", "'''"):
        assert debris not in text


def page(title, body, ns="0", redirect=False):
    extra = '<redirect title="X" />' if redirect else ""
    return f"<page><title>{title}</title><ns>{ns}</ns>{extra}<revision><text>{body}</text></revision></page>"


def test_wiki_articles_skips_redirects_other_namespaces_and_stubs():
    long_body = "Word " * 60 + "ends here."
    xml = ('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/">'
           + page("Kept", long_body) + page("Stub", "too short")
           + page("Talk:Kept", long_body, ns="1") + page("Moved", long_body, redirect=True)
           + page("Redirect text", "#REDIRECT [[Kept]] " + long_body) + "</mediawiki>")
    articles = wiki_articles(xml.encode("utf-8"), min_words=50)
    assert [title for title, _ in articles] == ["Kept"]


def test_split_passages_respects_the_word_budget_and_keeps_every_sentence():
    sentences = [f"Sentence number {i} has exactly seven words." for i in range(40)]
    text = " ".join(sentences[:20]) + "\n\n" + " ".join(sentences[20:])
    passages = split_passages(text, max_words=50, min_words=5)
    assert all(len(p.split()) <= 50 for p in passages)
    assert " ".join(passages).split() == text.split()
