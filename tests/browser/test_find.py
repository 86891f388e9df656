"""Find files in a real browser: facets with their counts, legible in both themes."""

import pytest
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

#: WCAG 2 AA for normal text.
MIN_CONTRAST = 4.5

#: Every visible text node's colour against the background it is painted on (the first
#: ancestor with an opaque background), as WCAG contrast ratios.
CONTRASTS_JS = """
(root) => {
  const rgb = (css) => (css.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const [r, g, b, a = 1] = rgb(getComputedStyle(el).backgroundColor);
      if (a > 0.9) return [r, g, b];
    }
    return [255, 255, 255];
  };
  const found = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    const text = node.textContent.trim();
    if (!text || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility !== "visible" || style.opacity === "0") continue;
    const [fg, bg] = [lum(rgb(style.color)), lum(background(el))];
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    found.push({text: text.slice(0, 40), ratio: Math.round(ratio * 100) / 100});
  }
  return found;
}
"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_facets_show_their_counts_legibly(new_page, live_server, demo_drives, curator, scheme):
    page = new_page("curator", color_scheme=scheme)
    page.goto(f"{live_server.url}/admin/find/?q=rehearsal")
    expect(page.locator("[data-total]")).to_have_attribute("data-total", "6")

    drives = page.locator('.phs-facet[data-facet="drive"] li')
    expect(drives).to_have_count(2)
    expect(drives.nth(0)).to_contain_text("PHS_Demo_A")
    expect(drives.nth(0).locator(".count")).to_have_text("4")
    expect(drives.nth(1).locator(".count")).to_have_text("2")

    texts = page.locator(".phs-find-layout").evaluate(CONTRASTS_JS)
    assert any(t["text"] == "4" for t in texts)  # the counts are among what was measured
    faint = [t for t in texts if t["ratio"] < MIN_CONTRAST]
    assert not faint, f"text below {MIN_CONTRAST}:1 contrast in the {scheme} theme: {faint}"
    assert not page.problems
