"""Getting accounts in: platform connectors, validation, cleaning and the vector, storage,
onboarding and seeding."""
