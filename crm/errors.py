"""The one domain error type services raise; views and the API turn it into a message
at the named field (or at the top of the form when there is none)."""


class DomainError(Exception):
    def __init__(self, message, *, field: str | None = None, code: str = "invalid"):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.code = code


class EditConflict(DomainError):
    """Someone else saved the object after this editor loaded it."""

    def __init__(self, message, *, fields: list[str]):
        super().__init__(message, code="conflict")
        self.fields = fields


def add_domain_error(form, error: DomainError) -> None:
    """A service's refusal shown on the form that asked: on the field it names, else
    above the form."""
    form.add_error(error.field if error.field in form.fields else None, str(error.message))
