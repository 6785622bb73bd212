"""The HTML pages' Jinja2 environment, built when the first page is rendered, not at start-up.

A server that only federates, or only answers client apps, never renders a page, yet importing
Jinja2 at start-up held 1.5 MiB of an idle server's memory (benchmarks.memory). So the app
holds a `Templates` that imports Jinja2 on the first `render`; areas add their filters to it
at setup (`filters`), and they join the environment when it is built.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    import jinja2

TEMPLATE_PACKAGES = ("spark_fed", "api", "web")
"""The packages whose `templates/` directories hold the pages, searched in this order."""


class Templates:
    def __init__(self) -> None:
        self.filters: dict[str, Any] = {}
        self._env: jinja2.Environment | None = None

    @property
    def env(self) -> "jinja2.Environment":
        if self._env is None:
            import jinja2

            env = jinja2.Environment(
                loader=jinja2.ChoiceLoader([jinja2.PackageLoader(pkg) for pkg in TEMPLATE_PACKAGES]),
                autoescape=True,
                # Templates ship with the code: checking their files on every render costs ~0.2 ms a page.
                auto_reload=False,
            )
            env.filters.update(self.filters)
            self._env = env
        return self._env


TEMPLATES = web.AppKey("templates", Templates)


def render_template(
    request: web.Request, template: str, context: Mapping[str, Any], *, status: int = 200
) -> web.Response:
    """TEMPLATE rendered with CONTEXT as an HTML answer."""
    text = request.config_dict[TEMPLATES].env.get_template(template).render(context)
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")
