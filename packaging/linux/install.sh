#!/bin/sh
# Put gradsim's launcher entry and icons where desktop launchers find them, for this bundle.
#
#   ./install.sh                  for you: ~/.local/share/applications, ~/.local/share/icons,
#                                 and a link ~/.local/bin/gradsim
#   sudo ./install.sh --system    for everyone: the same under /usr/local
#   ./install.sh --uninstall      remove them again (add --system for the system-wide ones)
#
# The app stays where it is: the entry starts this folder's gradsim by its absolute path, so
# after moving the folder, run ./install.sh again. The menu caches are refreshed when their
# tools are installed; without them the launchers find the entry a little later.
set -eu

usage() {
    sed -n '2,7s/^# \{0,1\}//p' "$0"
}

mode=install
scope=user
for arg in "$@"; do
    case $arg in
        --system) scope=system ;;
        --uninstall) mode=uninstall ;;
        -h | --help) usage; exit 0 ;;
        *) echo "install.sh: unknown option '$arg'" >&2; usage >&2; exit 2 ;;
    esac
done

bundle=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P)
exe="$bundle/gradsim"
if [ "$scope" = system ]; then
    data=/usr/local/share
    bin=/usr/local/bin
    if [ "$(id -u)" != 0 ]; then
        echo "install.sh: --system writes to /usr/local: run it as root (sudo $0 $*)" >&2
        exit 1
    fi
else
    data=${XDG_DATA_HOME:-$HOME/.local/share}
    bin=$HOME/.local/bin
fi
apps="$data/applications"
icons="$data/icons/hicolor"
entry="$apps/gradsim.desktop"
link="$bin/gradsim"
source_icons="$bundle/share/icons/hicolor"
source_entry="$bundle/share/applications/gradsim.desktop"

# The icon files, relative to hicolor/ (48x48/apps/gradsim.png, scalable/apps/gradsim.svg...).
icon_files() {
    (cd "$source_icons" && find . -type f | sed 's|^\./||')
}

refresh_caches() {
    if [ -d "$apps" ] && command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$apps" 2>/dev/null || true
    fi
    # Launchers notice new icons by the theme folder's time stamp. An icon cache is kept
    # current where one exists, never created: a cache that later goes stale would hide the
    # icons other programs add without updating it.
    if [ -d "$icons" ]; then
        touch "$icons" 2>/dev/null || true
        if [ -f "$icons/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null 2>&1
        then
            gtk-update-icon-cache -q -t -f "$icons" 2>/dev/null || true
        fi
    fi
}

# The entry's Exec line: this bundle's executable, quoted as the Desktop Entry spec asks.
# Inside quotes the spec wants " ` $ \ escaped (and % doubled); such paths are refused rather
# than escaped, as no one is expected to install from one.
exec_line() {
    case $exe in
        *[\"\`\$\\%]*)
            echo "install.sh: cannot write a launcher for a path with \" \` \$ \\ or %: $exe" >&2
            exit 1 ;;
    esac
    printf 'Exec="%s"\n' "$exe"
}

install_entry() {
    mkdir -p "$apps"
    line=$(exec_line)
    while IFS= read -r text || [ -n "$text" ]; do
        case $text in
            Exec=*) printf '%s\n' "$line" ;;
            *) printf '%s\n' "$text" ;;
        esac
    done <"$source_entry" >"$entry.tmp"
    chmod 644 "$entry.tmp"
    mv -f "$entry.tmp" "$entry"
    echo "installed $entry"
}

install_icons() {
    icon_files | while IFS= read -r name; do
        mkdir -p "$(dirname -- "$icons/$name")"
        cp -f "$source_icons/$name" "$icons/$name"
        chmod 644 "$icons/$name"
    done
    echo "installed icons in $icons"
}

install_link() {
    mkdir -p "$bin"
    if [ -e "$link" ] && [ ! -L "$link" ]; then
        echo "note: $link exists and is not a link (a pip install?); left as it is"
        return
    fi
    ln -sfn "$exe" "$link"
    echo "linked $link -> $exe"
    case ":${PATH:-}:" in
        *":$bin:"*) ;;
        *) echo "note: $bin is not on your PATH; the menu entry works without it" ;;
    esac
}

uninstall() {
    if [ -e "$entry" ]; then
        rm -f "$entry"
        echo "removed $entry"
    fi
    if [ -e "$icons/scalable/apps/gradsim.svg" ]; then
        echo "removed gradsim's icons from $icons"
    fi
    icon_files | while IFS= read -r name; do
        rm -f "$icons/$name"
    done
    if [ -L "$link" ] && [ "$(readlink "$link")" = "$exe" ]; then
        rm -f "$link" && echo "removed $link"
    elif [ -e "$link" ] || [ -L "$link" ]; then
        echo "note: $link is not a link to this bundle; left as it is"
    fi
}

if [ "$mode" = uninstall ]; then
    uninstall
else
    if [ ! -x "$exe" ] || [ ! -f "$source_entry" ] || [ ! -d "$source_icons" ]; then
        echo "install.sh: run the install.sh inside the gradsim folder (no app at $exe)" >&2
        exit 1
    fi
    install_entry
    install_icons
    install_link
fi
refresh_caches
