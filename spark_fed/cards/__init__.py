"""Link preview cards: which link of a post gets one, reading a page's metadata, and the fetch.

`links.first_link` picks the link, `page.read_page` and `page.read_oembed` turn a page's head
and its oEmbed document into a `CardData`, `fetcher.CardFetcher` fetches them within limits,
and `store` keeps cards per URL and says which card a status shows. The queue's job kind that
runs it all in the background is `spark_fed.queue.cards`.
"""
