#!/usr/bin/env bash
# Full-page screenshots of an HTML report as a desktop (1280 px) and a phone (390 px)
# browser shows it, to look at before committing a change to a report's page:
#   scripts/screenshots.sh course.html shots/   # -> shots/course-1280.png, shots/course-390.png
# Needs Chromium (Debian: apt-get install chromium) and ImageMagick's convert (to cut the
# blank space below the page). Not run by the tests or CI.
set -euo pipefail
if [[ $# -lt 2 ]]; then
    echo "usage: scripts/screenshots.sh HTML_FILE OUT_DIR [HEIGHT]  (HEIGHT: the window's, default 40000 px; pages longer are cut there)" >&2
    exit 2
fi
html=$1 out=$2 height=${3:-40000}
[[ -f $html ]] || { echo "scripts/screenshots.sh: $html: no such file" >&2; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[[ -n $browser ]] || { echo "scripts/screenshots.sh: no chromium on PATH; install it (apt-get install chromium)" >&2; exit 1; }
command -v convert >/dev/null || { echo "scripts/screenshots.sh: no ImageMagick convert on PATH (apt-get install imagemagick)" >&2; exit 1; }
mkdir -p "$out"
# Debian's ImageMagick policy refuses images taller than 16,000 px; a page is often taller.
policy=$(mktemp -d)
trap 'rm -rf "$policy"' EXIT
cat > "$policy/policy.xml" <<'XML'
<policymap>
  <policy domain="resource" name="height" value="64KP"/>
  <policy domain="resource" name="area" value="2GP"/>
  <policy domain="resource" name="memory" value="2GiB"/>
</policymap>
XML
export MAGICK_CONFIGURE_PATH=$policy
url="file://$(cd "$(dirname "$html")" && pwd)/$(basename "$html")"
stem=$(basename "${html%.*}")
for width in 1280 390; do
    png="$out/$stem-$width.png"
    # A window as tall as the page would be: headless Chromium shots the window, not the page.
    "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
        --window-size="$width,$height" --screenshot="$png" "$url" >/dev/null 2>&1
    # Cut the blank space below the page's content (full width kept).
    read -r _ h y < <(convert "$png" -trim -format '%w %h %Y\n' info: | tr -d '+' )
    convert "$png" -crop "${width}x$((h + y + 24))+0+0" +repage "$png"
    echo "$png"
done
