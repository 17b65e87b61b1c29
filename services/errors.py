"""Domain errors raised by services; views turn them into French pages with a status."""


class DomainError(Exception):
    status = 422

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status = 404


class NotAllowed(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class Invalid(DomainError):
    status = 422


class TooManyAttempts(DomainError):
    status = 429
