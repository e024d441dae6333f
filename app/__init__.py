"""高校毕业生就业信息网: the web application."""
