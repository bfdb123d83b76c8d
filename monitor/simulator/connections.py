"""How the simulator treats a kept-alive connection: the way real servers get it wrong.

Every response the simulator sends says (by HTTP/1.1's default) that the connection stays open.
Real servers do not always keep that promise: llama.cpp's `llama-server`, for one, closes the
connection after a streamed answer, so a client that reuses it writes its next request to a
socket that is already gone. `CONNECTION_MODES` names the ways to imitate that:

    keep            the promise is kept (the default)
    close_after     the connection is closed as soon as each answer has been sent, as
                    llama-server does; whether the client notices before reusing it is a race
    drop_reused     the connection stays open, and is closed unanswered DROP_DELAY_S after a
                    second request arrives on it: the losing side of that race, every time

These are uvicorn HTTP protocol classes (h11), chosen with `run_in_thread(connections=...)`.
"""

from __future__ import annotations

from uvicorn.protocols.http.h11_impl import H11Protocol

CONNECTION_MODES = ("keep", "close_after", "drop_reused")
DROP_DELAY_S = 0.3
"""How long a reused connection is held before it is dropped (`drop_reused`): long enough that
a client which counted the dead try into its timings would show it."""


class _CloseAfterAnswer(H11Protocol):
    """Closes the connection right after each complete response, without saying so first."""

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.transport.close()


class _DropReused(H11Protocol):
    """Answers the first request of a connection; drops the connection, unanswered, when another
    request arrives on it."""

    answered = False

    def on_response_complete(self) -> None:
        self.answered = True
        super().on_response_complete()

    def data_received(self, data: bytes) -> None:
        if self.answered:
            # The request is never read (the server never saw it) and never answered.
            if not self.transport.is_closing():
                self.loop.call_later(DROP_DELAY_S, self.transport.close)
            return
        super().data_received(data)


def protocol_for(mode: str) -> type[H11Protocol] | str:
    """The uvicorn `http` setting for a connection mode ("auto" for `keep`)."""
    if mode == "close_after":
        return _CloseAfterAnswer
    if mode == "drop_reused":
        return _DropReused
    if mode == "keep":
        return "auto"
    raise ValueError(f"unknown connection mode {mode!r}; expected one of {CONNECTION_MODES}")
