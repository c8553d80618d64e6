"""Pages that bring several features together (composition, above the features): the
dashboard and a group's home (its threads, sessions and materials), the session pages with
their agenda and recap. Blueprints keep their names (`groups`, `workshops`)."""
