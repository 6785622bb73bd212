"""Offline JSON-LD: bundled contexts, the lenient/strict loader policy, and proof of no network use.

Documents follow the shapes in docs/interop.md (Mastodon's actor, GoToSocial, Pleroma).
Expansion runs in a worker thread in the network tests so that, if anything did try to fetch from
the loopback server, the server (on the test's event loop) could answer and the request would count.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from importlib import resources
from typing import Any

import pytest
from aiohttp import web
from pyld import jsonld as pyld_jsonld

from spark_fed import jsonld
from spark_fed.jsonld import (
    ACTOR_CONTEXT_URLS,
    AS_CONTEXT,
    OfflineDocumentLoader,
    UnknownContextError,
    compact,
    context_key,
    default_bundle,
    expand,
    install,
    normalize,
)

AS = "https://www.w3.org/ns/activitystreams#"
SEC = "https://w3id.org/security#"
TOOT = "http://joinmastodon.org/ns#"
GTS = "https://gotosocial.org/ns#"
CONTEXTS = resources.files("spark_fed.jsonld") / "contexts"

MASTODON_INLINE_CONTEXT: dict[str, Any] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "toot": "http://joinmastodon.org/ns#",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
    "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
    "movedTo": {"@id": "as:movedTo", "@type": "@id"},
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
    "discoverable": "toot:discoverable",
    "suspended": "toot:suspended",
    "memorial": "toot:memorial",
    "indexable": "toot:indexable",
    "attributionDomains": {"@id": "toot:attributionDomains", "@type": "@id"},
    "Emoji": "toot:Emoji",
    "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
    "Hashtag": "as:Hashtag",
    "gts": "https://gotosocial.org/ns#",
    "interactionPolicy": {"@id": "gts:interactionPolicy", "@type": "@id"},
    "canQuote": {"@id": "gts:canQuote", "@type": "@id"},
    "automaticApproval": {"@id": "gts:automaticApproval", "@type": "@id"},
}

SPARK_ACTOR_CONTEXT: list[Any] = [
    *ACTOR_CONTEXT_URLS,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
    },
]


def mastodon_actor() -> dict[str, Any]:
    """A Mastodon 4.x actor document (docs/interop.md) with Mastodon's own inline context."""
    actor = "https://m.example/users/bob"
    return {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/v1",
            "https://purl.archive.org/socialweb/webfinger",
            MASTODON_INLINE_CONTEXT,
        ],
        "id": actor,
        "type": "Person",
        "webfinger": "bob@m.example",
        "following": f"{actor}/following",
        "followers": f"{actor}/followers",
        "inbox": f"{actor}/inbox",
        "outbox": f"{actor}/outbox",
        "featured": f"{actor}/collections/featured",
        "featuredTags": f"{actor}/collections/tags",
        "preferredUsername": "bob",
        "name": "Bob",
        "summary": "<p>bio</p>",
        "url": "https://m.example/@bob",
        "manuallyApprovesFollowers": False,
        "discoverable": True,
        "indexable": False,
        "memorial": False,
        "published": "2026-01-01T00:00:00Z",
        "publicKey": {
            "id": f"{actor}#main-key",
            "owner": actor,
            "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n",
        },
        "tag": [],
        "attachment": [
            {
                "type": "PropertyValue",
                "name": "Site",
                "value": '<a href="https://a.example" rel="me">a.example</a>',
            }
        ],
        "endpoints": {"sharedInbox": "https://m.example/inbox"},
        "icon": {"type": "Image", "mediaType": "image/png", "url": "https://m.example/a.png"},
        "interactionPolicy": {
            "canQuote": {"automaticApproval": "https://www.w3.org/ns/activitystreams#Public"}
        },
    }


def values(node: dict[str, Any], iri: str) -> list[Any]:
    """The @value or @id of each entry under ``iri`` in an expanded node."""
    return [entry.get("@value", entry.get("@id")) for entry in node.get(iri, [])]


# --- the bundle -----------------------------------------------------------------------------------


def test_every_indexed_file_is_json_with_a_context() -> None:
    manifest = json.loads((CONTEXTS / "index.json").read_text("utf-8"))
    assert len(manifest) >= 15
    for url, filename in manifest.items():
        document = json.loads((CONTEXTS / filename).read_text("utf-8"))
        assert "@context" in document, (url, filename)


def test_every_context_file_is_indexed_and_documented() -> None:
    manifest = json.loads((CONTEXTS / "index.json").read_text("utf-8"))
    files = {entry.name for entry in CONTEXTS.iterdir() if entry.name.endswith(".jsonld")}
    sources = (CONTEXTS / "SOURCES.md").read_text("utf-8")
    assert files == set(manifest.values())
    for filename in files:
        assert f"`{filename}`" in sources, filename


@pytest.mark.parametrize("url", ACTOR_CONTEXT_URLS)
def test_urls_spark_emits_in_its_actor_context_are_bundled(url: str) -> None:
    assert url in default_bundle


def test_required_signature_and_key_contexts_are_bundled() -> None:
    for url in (
        "https://w3id.org/security/v1",
        "https://w3id.org/security/v2",
        "https://w3id.org/security/data-integrity/v1",
        "https://w3id.org/security/data-integrity/v2",
        "https://w3id.org/security/multikey/v1",
        "https://www.w3.org/ns/did/v1",
        "https://www.w3.org/ns/cid/v1",
        "https://w3id.org/identity/v1",
        "https://gotosocial.org/ns",
    ):
        assert url in default_bundle, url


@pytest.mark.parametrize("url", sorted(json.loads((CONTEXTS / "index.json").read_text("utf-8"))))
def test_every_bundled_context_resolves_strictly(url: str) -> None:
    """Strict mode proves no bundled context pulls in a context we do not bundle."""
    expanded = expand(
        {"@context": url, "@id": "https://x.example/1", "@type": "https://x.example/T"}, strict=True
    )
    assert expanded[0]["@id"] == "https://x.example/1"


@pytest.mark.parametrize(
    "variant",
    [
        "https://www.w3.org/ns/activitystreams",
        "http://www.w3.org/ns/activitystreams",
        "https://www.w3.org/ns/activitystreams#",
        "http://www.w3.org/ns/activitystreams#",
        "https://www.w3.org/ns/activitystreams/",
        "https://www.w3.org/ns/activitystreams.jsonld",
        "HTTPS://WWW.W3.ORG/ns/activitystreams",
    ],
)
def test_activitystreams_url_variants_are_served(variant: str) -> None:
    remote = jsonld.strict_loader(variant, {})
    assert remote["documentUrl"] == variant
    assert remote["document"]["@context"]["Person"] == "as:Person"
    expanded = expand({"@context": variant, "type": "Note", "content": "hi"}, strict=True)
    assert expanded[0]["@type"] == [f"{AS}Note"]


def test_context_key_keeps_query_and_ignores_scheme_fragment_and_trailing_slash() -> None:
    assert context_key("http://W3ID.org/security/v1/#x") == context_key("https://w3id.org/security/v1")
    assert context_key("https://w3id.org/security/v1?v=2") != context_key("https://w3id.org/security/v1")
    assert context_key("urn:example:ctx") == "urn:example:ctx"


def test_loader_returns_a_copy_so_pyld_cannot_corrupt_the_bundle() -> None:
    first = jsonld.lenient_loader("https://w3id.org/security/v2", {})
    first["document"]["@context"].clear()
    again = jsonld.lenient_loader("https://w3id.org/security/v2", {})
    assert again["document"]["@context"]


# --- reading real-world documents ------------------------------------------------------------------


def test_mastodon_actor_expands_offline_to_the_expected_iris() -> None:
    [node] = expand(mastodon_actor(), strict=True)
    assert node["@type"] == [f"{AS}Person"]
    assert values(node, f"{AS}preferredUsername") == ["bob"]
    assert values(node, f"{AS}manuallyApprovesFollowers") == [False]
    assert values(node, f"{TOOT}discoverable") == [True]
    assert values(node, f"{TOOT}featured") == ["https://m.example/users/bob/collections/featured"]
    assert values(node, "https://purl.archive.org/socialweb/webfinger#webfinger") == ["bob@m.example"]
    [key] = node[f"{SEC}publicKey"]
    assert key["@id"] == "https://m.example/users/bob#main-key"
    assert values(key, f"{SEC}owner") == ["https://m.example/users/bob"]
    assert values(key, f"{SEC}publicKeyPem")[0].startswith("-----BEGIN PUBLIC KEY-----")
    [endpoints] = node[f"{AS}endpoints"]
    assert values(endpoints, f"{AS}sharedInbox") == ["https://m.example/inbox"]
    [field] = node[f"{AS}attachment"]
    assert field["@type"] == ["http://schema.org#PropertyValue"]
    [policy] = node[f"{GTS}interactionPolicy"]
    [can_quote] = policy[f"{GTS}canQuote"]
    assert values(can_quote, f"{GTS}automaticApproval") == [f"{AS}Public"]


def test_mastodon_actor_compacts_to_sparks_own_term_names() -> None:
    compacted = compact(mastodon_actor(), SPARK_ACTOR_CONTEXT, strict=True)
    assert compacted["@context"] == SPARK_ACTOR_CONTEXT
    assert compacted["preferredUsername"] == "bob"
    assert compacted["webfinger"] == "bob@m.example"
    assert compacted["manuallyApprovesFollowers"] is False
    assert compacted["discoverable"] is True
    assert compacted["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert compacted["publicKey"]["owner"] == "https://m.example/users/bob"
    assert compacted["endpoints"]["sharedInbox"] == "https://m.example/inbox"
    assert compacted["attachment"]["type"] == "PropertyValue"
    assert compacted["attachment"]["value"].startswith("<a href=")


def test_expand_and_compact_leave_the_input_untouched() -> None:
    doc = mastodon_actor()
    before = copy.deepcopy(doc)
    expand(doc)
    compact(doc, AS_CONTEXT)
    assert doc == before


def test_gotosocial_note_with_interaction_policy_expands() -> None:
    note = {
        "@context": ["https://gotosocial.org/ns", "https://www.w3.org/ns/activitystreams"],
        "id": "https://gts.example/users/carol/statuses/01J",
        "type": "Note",
        "attributedTo": "https://gts.example/users/carol",
        "content": "<p>hello</p>",
        "to": "https://www.w3.org/ns/activitystreams#Public",
        "interactionPolicy": {
            "canLike": {"automaticApproval": "https://www.w3.org/ns/activitystreams#Public"},
            "canReply": {
                "automaticApproval": ["https://gts.example/users/carol"],
                "manualApproval": "https://www.w3.org/ns/activitystreams#Public",
            },
        },
    }
    [node] = expand(note, strict=True)
    [policy] = node[f"{GTS}interactionPolicy"]
    [can_reply] = policy[f"{GTS}canReply"]
    assert values(can_reply, f"{GTS}automaticApproval") == ["https://gts.example/users/carol"]
    assert values(can_reply, f"{GTS}manualApproval") == [f"{AS}Public"]
    assert compact(note, note["@context"])["interactionPolicy"]["canLike"] == {
        "automaticApproval": "as:Public"
    }


def test_fedify_actor_with_multikey_and_data_integrity_contexts_expands() -> None:
    """FEP-521a actors mix security/v1 with protected contexts; they must not clash."""
    actor = {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/v1",
            "https://w3id.org/security/data-integrity/v1",
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1",
        ],
        "id": "https://f.example/users/dana",
        "type": "Person",
        "preferredUsername": "dana",
        "assertionMethod": [
            {
                "id": "https://f.example/users/dana#ed25519-key",
                "type": "Multikey",
                "controller": "https://f.example/users/dana",
                "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
            }
        ],
    }
    [node] = expand(actor, strict=True)
    [method] = node[f"{SEC}assertionMethod"]
    assert method["@type"] == [f"{SEC}Multikey"]
    assert values(method, f"{SEC}controller") == ["https://f.example/users/dana"]


def pleroma_note(litepub_url: str) -> dict[str, Any]:
    """A Pleroma/Akkoma object: per-host litepub context and ``@language: und`` (docs/interop.md)."""
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", litepub_url, {"@language": "und"}],
        "id": "https://pl.example/objects/1",
        "type": "Note",
        "actor": "https://pl.example/users/erin",
        "content": "hi from pleroma",
        "conversation": "https://pl.example/contexts/abc",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }


def test_pleroma_per_host_litepub_context_does_not_fail() -> None:
    [node] = expand(pleroma_note("https://pl.example/schemas/litepub-0.1.jsonld"))
    assert node["@type"] == [f"{AS}Note"]
    assert node[f"{AS}content"] == [{"@value": "hi from pleroma", "@language": "und"}]
    # Litepub-only terms survive as "_:" IRIs, thanks to the AS context's "@vocab": "_:".
    assert values(node, "_:conversation") == ["https://pl.example/contexts/abc"]


def test_compacting_pleroma_shows_what_readers_of_compacted_json_must_accept() -> None:
    """Pleroma's ``@language: und`` turns ``content`` into ``contentMap``; Public becomes ``as:Public``."""
    compacted = compact(pleroma_note("https://pl.example/schemas/litepub-0.1.jsonld"), AS_CONTEXT)
    assert "content" not in compacted
    assert compacted["contentMap"] == {"und": "hi from pleroma"}
    assert compacted["to"] == "as:Public"


def test_strict_mode_raises_a_specific_error_for_unknown_contexts() -> None:
    url = "https://pl.example/schemas/litepub-0.1.jsonld"
    with pytest.raises(UnknownContextError) as raised:
        expand(pleroma_note(url), strict=True)
    assert raised.value.url == url
    assert isinstance(raised.value, pyld_jsonld.JsonLdError)
    with pytest.raises(UnknownContextError):
        compact(pleroma_note(url), AS_CONTEXT, strict=True)
    with pytest.raises(UnknownContextError):
        normalize(pleroma_note(url))


def test_lenient_resolution_never_leaks_into_strict_mode() -> None:
    url = "https://leak.example/schemas/litepub-0.1.jsonld"
    expand(pleroma_note(url))
    with pytest.raises(UnknownContextError):
        expand(pleroma_note(url), strict=True)
    install_previous = install(jsonld.lenient_loader)
    try:
        pyld_jsonld.expand(pleroma_note(url))
    finally:
        install(install_previous)
    with pytest.raises(UnknownContextError):
        expand(pleroma_note(url), strict=True)


def test_unknown_policy_is_validated() -> None:
    with pytest.raises(ValueError):
        OfflineDocumentLoader("fetch")  # type: ignore[arg-type]


def test_rsa_signature_2017_options_normalize_with_the_identity_context() -> None:
    """What Mastodon hashes for an LD signature's options (identity/v1, strict)."""
    nquads = normalize(
        {
            "@context": "https://w3id.org/identity/v1",
            "creator": "https://m.example/users/bob#main-key",
            "created": "2026-08-01T10:00:00Z",
        }
    )
    assert "<http://purl.org/dc/terms/creator> <https://m.example/users/bob#main-key>" in nquads
    assert re.search(r'<http://purl.org/dc/terms/created> "2026-08-01T10:00:00Z"\^\^<[^>]+dateTime>', nquads)


def test_install_makes_plain_pyld_calls_offline_and_returns_the_previous_loader() -> None:
    original = pyld_jsonld.get_document_loader()
    previous = install()
    try:
        assert previous is original
        assert pyld_jsonld.get_document_loader() is jsonld.lenient_loader
        [node] = pyld_jsonld.expand(mastodon_actor())
        assert values(node, f"{AS}preferredUsername") == ["bob"]
    finally:
        install(previous)
    assert pyld_jsonld.get_document_loader() is original


# --- no network, proven against a live loopback server ---------------------------------------------


@pytest.fixture
async def context_server(aiohttp_server: Any) -> tuple[str, list[str]]:
    """A loopback server that would serve a valid context at /ctx, recording every request."""
    hits: list[str] = []

    async def serve_context(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.json_response(
            {"@context": {"secret": "https://evil.example/ns#secret"}}, content_type="application/ld+json"
        )

    app = web.Application()
    app.router.add_get("/ctx", serve_context)
    server = await aiohttp_server(app)
    return f"http://127.0.0.1:{server.port}/ctx", hits


def doc_using(context_url: str) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", context_url],
        "id": "https://x.example/notes/1",
        "type": "Note",
        "secret": "would only expand if the context had been fetched",
        "content": "hello",
    }


async def test_offline_helpers_never_contact_an_unknown_context_url(
    context_server: tuple[str, list[str]],
) -> None:
    url, hits = context_server
    [node] = await asyncio.to_thread(expand, doc_using(url))
    assert "https://evil.example/ns#secret" not in node
    assert values(node, f"{AS}content") == ["hello"]
    await asyncio.to_thread(compact, doc_using(url), url)
    with pytest.raises(UnknownContextError):
        await asyncio.to_thread(expand, doc_using(url), strict=True)
    with pytest.raises(UnknownContextError):
        await asyncio.to_thread(normalize, doc_using(url))
    previous = install()
    try:
        await asyncio.to_thread(pyld_jsonld.expand, doc_using(url))
    finally:
        install(previous)
    assert hits == []


async def test_the_server_does_count_a_real_fetch_by_pyld_default_loader(
    context_server: tuple[str, list[str]],
) -> None:
    """Control for the test above: pyld left to itself does reach the server, and we would see it."""
    url, hits = context_server
    default_loader = pyld_jsonld.get_document_loader()
    assert not isinstance(default_loader, OfflineDocumentLoader)
    [node] = await asyncio.to_thread(pyld_jsonld.expand, doc_using(url), {"documentLoader": default_loader})
    assert values(node, "https://evil.example/ns#secret")
    assert hits == ["/ctx"]
