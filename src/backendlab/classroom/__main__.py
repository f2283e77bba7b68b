"""``make hub``: a JupyterHub classroom on this machine until Ctrl+C (then everything is removed)."""

from __future__ import annotations

import signal
import sys
import threading

from backendlab.classroom import CHECKOUT, COURSE_ID, Classroom, ClassroomUnavailable


def main() -> int:
    room = Classroom()
    try:
        room.start()
    except ClassroomUnavailable as exc:
        print(f"make hub: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        print(f"\nJupyterHub is running at {room.url}/ (127.0.0.1 only). Log in as:\n")
        for account in room.accounts:
            print(f"  {account.role:<10}  user {account.name:<20} password {account.password}")
        print(f"\nThe instructor's course is ~/{CHECKOUT}: in a terminal there, `make exercises ENV_BIN={room.bin}`,"
              f"\nthen `nbgrader release_assignment 01-lightweight`; students fetch it from Nbgrader > Assignment List"
              f"\n(course {COURSE_ID}). After `nbgrader collect 01-lightweight`: `make grade ENV_BIN={room.bin}`,"
              f"\nthen `nbgrader release_feedback 01-lightweight`.")
        print(f"\nThe course link for students (nbgitpuller):\n  {room.pull_link()}")
        print("\nCtrl+C stops the hub and deletes these accounts, their homes and the exchange.")
        stop.wait()
    finally:
        print("stopping the classroom ...")
        room.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
