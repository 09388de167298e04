"""The one part of the build pyproject.toml cannot say: the optional C walker of ``evkit ls``.

``evkit.sources.filesystems._tskwalk`` is linked against the system's The Sleuth Kit (Debian:
``libtsk-dev``). It is optional: where libtsk or its headers are missing the build only warns,
and ``evkit ls`` uses the pytsk3 walk, which prints the same bytes, only slower.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "evkit.sources.filesystems._tskwalk",
            ["src/evkit/sources/filesystems/_tskwalk.c"],
            libraries=["tsk"],
            extra_compile_args=["-Wall", "-Wextra"],
            optional=True,
        )
    ]
)
