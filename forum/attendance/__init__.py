"""Attendance at a group's sessions (issue 17): registration for one or both days (with a cap
per organisation when the group sets one), check-in on the day by a short code or QR code or
from the moderator's list, audited late corrections. The hours a person attended come from the
session's times per day (forum.workshops.Workshop.day1_starts …)."""
