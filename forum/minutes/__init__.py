"""A session's minutes written together (issue 17): they start from the agenda, moderators add
chat messages, thread conclusions and decisions in one click, members propose amendments for a
set time, then the minutes are approved and frozen into the recap."""
