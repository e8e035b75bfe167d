DROP TABLE web_secret;
