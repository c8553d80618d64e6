"""A short questionnaire after each session (issue 17): questions from a standard set plus the
moderator's own, one answer per attendee, anonymous to moderators; results per session and the
trend over the group's sessions."""
