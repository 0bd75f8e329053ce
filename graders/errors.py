"""The exceptions dockerlab raises. Each carries a message meant for a person."""


class DockerlabError(Exception):
    """Root of every error this package raises on purpose."""


class UsageError(DockerlabError):
    """The command line asked for something that does not exist."""


class ConfigError(DockerlabError):
    """course.yml (or another input file) is invalid. `str()` gives `file:line path: message`."""

    def __init__(self, file: str, line: int | None, path: str, message: str) -> None:
        self.file, self.line, self.path, self.message = file, line, path, message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where} {path}: {message}" if path else f"{where}: {message}")


class EngineError(DockerlabError):
    """The Docker engine (or a tool around it) failed: infrastructure, never the learner's fault."""

    def __init__(self, message: str, fix: str = "") -> None:
        self.fix = fix
        super().__init__(f"{message}\n  fix: {fix}" if fix else message)


class DockerfileError(DockerlabError):
    """A Dockerfile that BuildKit would refuse to parse."""

    def __init__(self, line: int | None, message: str, fix: str = "") -> None:
        self.line, self.message, self.fix = line, message, fix
        super().__init__(f"line {line}: {message}" if line else message)
