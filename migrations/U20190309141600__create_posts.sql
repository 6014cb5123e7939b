-- Posts of a company, with the stats collected for each.
CREATE TABLE posts (
  id INT NOT NULL AUTO_INCREMENT,
  url VARCHAR(255) NOT NULL,
  se_post TINYINT(1) NOT NULL DEFAULT 0,
  published_at DATETIME NULL,
  scrapped_at DATETIME NOT NULL,
  error VARCHAR(255) NULL,
  stats JSON NULL,
  created_at DATETIME NULL,
  updated_at DATETIME NULL,
  company_id INT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY posts_url_index (url),
  KEY posts_company_id_index (company_id),
  CONSTRAINT posts_company_id_fkey FOREIGN KEY (company_id) REFERENCES companies (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
