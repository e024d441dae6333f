"""简历投递: applications with the resume as sent, and the employer's view of applicants."""
