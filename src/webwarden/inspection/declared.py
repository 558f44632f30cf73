"""What a body claims to be: the label of a declared Content-Type and of a file name."""

from __future__ import annotations

from webwarden.inspection.labels import (
    ACTIVE_CODE,
    ARCHIVE,
    AUDIO,
    DOCUMENT,
    EXECUTABLE,
    GAME,
    HTML,
    IMAGE,
    TEXT,
    VIDEO,
)

# Types that say nothing about the content.
_GENERIC_TYPES = frozenset(
    {
        "application/octet-stream",
        "binary/octet-stream",
        "application/unknown",
        "application/download",
        "application/force-download",
        "application/x-download",
        "application/binary",
    }
)

_TYPES: dict[str, str] = {
    **dict.fromkeys(
        (
            "application/x-msdownload",
            "application/x-dosexec",
            "application/vnd.microsoft.portable-executable",
            "application/x-msdos-program",
            "application/x-executable",
            "application/x-elf",
            "application/x-mach-binary",
            "application/x-sharedlib",
            "application/x-msi",
            "application/x-ms-installer",
            "application/msix",
            "application/vnd.android.package-archive",
            "application/x-rpm",
            "application/vnd.debian.binary-package",
            "application/x-debian-package",
            "application/x-apple-diskimage",
            "application/x-sh",
            "application/x-shellscript",
            "text/x-shellscript",
            "application/x-csh",
        ),
        EXECUTABLE,
    ),
    **dict.fromkeys(
        (
            "application/java-archive",
            "application/x-java-archive",
            "application/java-vm",
            "application/x-java-applet",
            "application/x-java-jnlp-file",
            "application/x-shockwave-flash",
            "application/x-chrome-extension",
            "application/x-xpinstall",
            "application/hta",
            "text/vbscript",
            "application/x-vbscript",
            "application/x-powershell",
            "application/x-bat",
            "application/x-ms-shortcut",
        ),
        ACTIVE_CODE,
    ),
    **dict.fromkeys(
        (
            "application/zip",
            "application/x-zip-compressed",
            "application/gzip",
            "application/x-gzip",
            "application/x-tar",
            "application/x-gtar",
            "application/x-7z-compressed",
            "application/vnd.rar",
            "application/x-rar-compressed",
            "application/x-xz",
            "application/x-bzip2",
            "application/x-bzip",
            "application/zstd",
            "application/x-compress",
            "application/x-lzip",
            "application/x-lz4",
            "application/vnd.ms-cab-compressed",
            "application/x-archive",
        ),
        ARCHIVE,
    ),
    **dict.fromkeys(
        (
            "application/pdf",
            "application/rtf",
            "text/rtf",
            "application/msword",
            "application/vnd.ms-excel",
            "application/vnd.ms-powerpoint",
            "application/epub+zip",
            "application/postscript",
            "image/vnd.djvu",
            "application/x-ole-storage",
        ),
        DOCUMENT,
    ),
    **dict.fromkeys(
        (
            "application/vnd.unity",
            "application/x-nes-rom",
            "application/x-n64-rom",
            "application/x-genesis-rom",
            "application/x-gameboy-rom",
            "application/x-godot-pack",
        ),
        GAME,
    ),
    # Streaming manifests are text, but they are how video and radio are delivered.
    **dict.fromkeys(
        ("application/vnd.apple.mpegurl", "application/x-mpegurl", "application/dash+xml"),
        VIDEO,
    ),
    "text/html": HTML,
    "application/xhtml+xml": HTML,
}

_TYPE_PREFIXES = (
    ("application/vnd.openxmlformats-officedocument.", DOCUMENT),
    ("application/vnd.oasis.opendocument.", DOCUMENT),
    ("application/vnd.ms-word.", DOCUMENT),
    ("application/vnd.ms-excel.", DOCUMENT),
    ("application/vnd.ms-powerpoint.", DOCUMENT),
    ("image/", IMAGE),
    ("audio/", AUDIO),
    ("video/", VIDEO),
    ("text/", TEXT),
)

_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/javascript",
        "application/ecmascript",
        "application/x-javascript",
        "application/x-www-form-urlencoded",
    }
)

STREAMING_MANIFESTS = frozenset(
    {
        "application/vnd.apple.mpegurl",
        "application/x-mpegurl",
        "application/dash+xml",
        "audio/mpegurl",
        "audio/x-mpegurl",
        "audio/x-scpls",
    }
)

_EXECUTABLE_NAMES = {
    "exe": "Windows program",
    "dll": "Windows library",
    "scr": "Windows screen saver",
    "com": "DOS program",
    "cpl": "Control Panel item",
    "msi": "Windows installer",
    "msp": "Windows installer patch",
    "mst": "Windows installer transform",
    "msix": "Windows app package",
    "msixbundle": "Windows app package",
    "appx": "Windows app package",
    "appxbundle": "Windows app package",
    "apk": "Android package",
    "xapk": "Android package",
    "deb": "Debian package",
    "rpm": "RPM package",
    "dmg": "macOS disk image",
    "pkg": "macOS installer",
    "run": "Linux installer",
    "sh": "shell script",
    "bash": "shell script",
    "elf": "Linux program",
}
_ACTIVE_CODE_NAMES = {
    "jar": "Java archive",
    "class": "Java class file",
    "jnlp": "Java Web Start",
    "swf": "Flash",
    "ps1": "PowerShell script",
    "psm1": "PowerShell module",
    "vbs": "VBScript",
    "vbe": "encoded VBScript",
    "bat": "batch file",
    "cmd": "batch file",
    "hta": "HTML application",
    "wsf": "Windows script",
    "wsh": "Windows script settings",
    "jse": "encoded JScript",
    "reg": "registry file",
    "lnk": "Windows shortcut",
    "crx": "Chrome extension",
    "xpi": "Firefox extension",
}
_OTHER_NAMES = (
    (ARCHIVE, "archive", "zip gz tgz tar 7z rar xz txz bz2 tbz2 zst cab lz lz4 z iso"),
    (AUDIO, "audio", "mp3 wav ogg oga opus flac m4a aac wma mid midi aif aiff amr ape wv au pls"),
    (VIDEO, "video", "mp4 m4v mov webm mkv avi flv wmv asf mpg mpeg m2ts mts 3gp ogv m3u8 mpd rm"),
    (IMAGE, "image", "jpg jpeg png gif webp bmp tif tiff ico svg heic heif avif jxl psd jp2"),
    (
        DOCUMENT,
        "document",
        "pdf doc docx docm dot dotx xls xlsx xlsm ppt pptx pptm odt ods odp rtf epub ps djvu",
    ),
    (GAME, "game", "unity3d unityweb nes n64 z64 gb gbc gba sfc smc"),
    (HTML, "web page", "html htm xhtml"),
    (TEXT, "text", "txt csv json xml css js mjs log"),
)
_EXTENSIONS: dict[str, tuple[str, str]] = {
    **{ext: (EXECUTABLE, detail) for ext, detail in _EXECUTABLE_NAMES.items()},
    **{ext: (ACTIVE_CODE, detail) for ext, detail in _ACTIVE_CODE_NAMES.items()},
    **{ext: (label, detail) for label, detail, names in _OTHER_NAMES for ext in names.split()},
}


def media_type(declared_type: str | None) -> str:
    """The bare media type of a Content-Type value, lower case ('' for none)."""
    if not declared_type:
        return ""
    return declared_type.split(";", 1)[0].strip().lower()


def label_of_type(declared_type: str | None) -> str | None:
    """The label a Content-Type claims, or None when it claims nothing we know."""
    mime = media_type(declared_type)
    if not mime or mime in _GENERIC_TYPES:
        return None
    if mime in _TYPES:
        return _TYPES[mime]
    if mime in _TEXT_TYPES or mime.endswith(("+json", "+xml")):
        return TEXT
    for prefix, label in _TYPE_PREFIXES:
        if mime.startswith(prefix):
            return label
    return None


def extension(filename: str | None) -> str:
    """The lower-case extension of the last path segment of `filename` ('' for none)."""
    if not filename:
        return ""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    return ext.strip().lower() if dot and stem else ""


def label_of_name(filename: str | None) -> tuple[str, str] | None:
    """(label, what the extension means) for a file name, or None."""
    return _EXTENSIONS.get(extension(filename))
