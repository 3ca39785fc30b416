-- MySQL-dialect conformance corpus over fixtures/databases/shop.mysql.sql.
-- Each query follows a `-- @name` line; the test runs it on the embedded engine and on a real
-- MariaDB loaded with the same dump, and compares the results value by value.
-- `-- @name unsupported: <construct>`: the embedded engine must refuse it naming <construct>.
-- NOW() is pinned to 2024-12-01 12:00:00 UTC on both sides (SET timestamp on the server).

-- @select_star_limit
SELECT * FROM customers ORDER BY id LIMIT 5;

-- @limit_offset_comma
SELECT id, name FROM customers ORDER BY id LIMIT 10, 5;

-- @limit_offset_keyword
SELECT id FROM orders ORDER BY id DESC LIMIT 3 OFFSET 7;

-- @schema_qualified
SELECT `c`.`id`, `c`.`name` FROM `shop`.`customers` AS `c` WHERE `c`.`id` <= 3 ORDER BY `c`.`id`;

-- @hash_comment
SELECT COUNT(*) FROM orders # every order
WHERE status = 'PAID';

-- @dash_comment
SELECT COUNT(*) -- how many
FROM products WHERE stock IS NULL;

-- @block_comment
SELECT /* the cheapest */ MIN(price), MAX(price) FROM products;

-- @where_in_between
SELECT id, quantity FROM orders WHERE quantity IN (1, 5) AND id BETWEEN 10 AND 30 ORDER BY id;

-- @like_case_insensitive
SELECT COUNT(*) FROM orders WHERE status LIKE 'pa%';

-- @equality_case_insensitive
SELECT COUNT(*) FROM orders WHERE status = 'cancelled';

-- @not_like_escape
SELECT id, title FROM products WHERE title LIKE '%"%' ORDER BY id LIMIT 5;

-- @is_null_coalesce
SELECT id, COALESCE(email, 'n/a'), IFNULL(city, '-') FROM customers WHERE id IN (3, 4, 7, 14) ORDER BY id;

-- @if_function
SELECT id, IF(amount > 100, 'big', 'small') AS size FROM orders ORDER BY id LIMIT 6;

-- @case_searched
SELECT id, CASE WHEN quantity >= 4 THEN 'bulk' WHEN quantity = 1 THEN 'single' ELSE 'few' END FROM orders ORDER BY id LIMIT 8;

-- @case_simple
SELECT status, CASE status WHEN 'PAID' THEN 1 WHEN 'NEW' THEN 0 ELSE -1 END AS code FROM orders GROUP BY status ORDER BY status;

-- @nullif
SELECT id, NULLIF(stock, 90) FROM products WHERE id BETWEEN 8 AND 10 ORDER BY id;

-- @group_by_having
SELECT customer_id, COUNT(*) AS n, SUM(amount) AS total FROM orders GROUP BY customer_id HAVING COUNT(*) >= 4 ORDER BY customer_id LIMIT 10;

-- @group_by_status_sum
SELECT status, COUNT(*), SUM(quantity), ROUND(SUM(amount), 2) FROM orders GROUP BY status ORDER BY status;

-- @avg_decimal
SELECT ROUND(AVG(price), 2), ROUND(AVG(quantity), 4) FROM products JOIN orders ON orders.product_id = products.id;

-- @count_distinct
SELECT COUNT(DISTINCT customer_id), COUNT(DISTINCT product_id) FROM orders;

-- @inner_join
SELECT o.id, c.name, p.sku FROM orders o JOIN customers c ON c.id = o.customer_id JOIN products p ON p.id = o.product_id ORDER BY o.id LIMIT 5;

-- @left_join_null
SELECT c.id, COUNT(o.id) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id HAVING COUNT(o.id) = 0 ORDER BY c.id LIMIT 5;

-- @subquery_in
SELECT id, name FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE amount > 900) ORDER BY id LIMIT 5;

-- @subquery_scalar
SELECT id, amount, (SELECT MAX(amount) FROM orders) - amount AS gap FROM orders ORDER BY id LIMIT 4;

-- @exists_correlated
SELECT p.id FROM products p WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.product_id = p.id AND o.status = 'NEW') ORDER BY p.id;

-- @derived_table
SELECT t.status, t.n FROM (SELECT status, COUNT(*) AS n FROM orders GROUP BY status) AS t WHERE t.n > 500 ORDER BY t.status;

-- @cte
WITH big AS (SELECT customer_id, SUM(amount) AS s FROM orders GROUP BY customer_id) SELECT customer_id, s FROM big ORDER BY s DESC, customer_id LIMIT 5;

-- @union_all
SELECT 'c' AS k, COUNT(*) FROM customers UNION ALL SELECT 'p', COUNT(*) FROM products UNION ALL SELECT 'o', COUNT(*) FROM orders;

-- @window_row_number
SELECT id, customer_id, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY id) AS rn FROM orders WHERE customer_id <= 3 ORDER BY customer_id, id;

-- @window_rank
SELECT id, price, RANK() OVER (ORDER BY price DESC) AS r, DENSE_RANK() OVER (ORDER BY stock) AS d FROM products ORDER BY id LIMIT 10;

-- @window_running_sum
SELECT id, amount, SUM(amount) OVER (ORDER BY id) AS running FROM orders WHERE id <= 8 ORDER BY id;

-- @window_lag_lead
SELECT id, LAG(amount) OVER (ORDER BY id) AS prev, LEAD(amount, 2) OVER (ORDER BY id) AS next2 FROM orders WHERE id <= 6 ORDER BY id;

-- @cast_signed
SELECT id, price, CAST(price AS SIGNED) FROM products ORDER BY id LIMIT 6;

-- @cast_decimal
SELECT CAST(8 AS DECIMAL(10,2)), CAST(price AS DECIMAL(10,1)) FROM products WHERE id = 1;

-- @cast_char_unsigned
SELECT CAST(id AS CHAR), CAST(quantity AS UNSIGNED) FROM orders WHERE id = 17;

-- @cast_date
SELECT CAST(ordered_at AS DATE) FROM orders ORDER BY id LIMIT 3;

-- @format
SELECT FORMAT(915375, 2), FORMAT(SUM(amount), 2), FORMAT(1234.5, 0) FROM orders;

-- @arith_division
SELECT id, quantity / 2, quantity DIV 2, quantity MOD 2, amount / quantity FROM orders ORDER BY id LIMIT 5;

-- @round_truncate
SELECT ROUND(2.675, 2), ROUND(-2.5), TRUNCATE(price, 1), CEIL(price), FLOOR(price) FROM products WHERE id = 3;

-- @math_functions
SELECT ABS(-3), POW(2, 10), SQRT(16), MOD(17, 5), GREATEST(3, 9, 4), LEAST(3, 9, 4);

-- @concat
SELECT id, CONCAT(name, ' <', email, '>') FROM customers ORDER BY id LIMIT 4;

-- @concat_null
SELECT CONCAT('a', NULL, 'b'), CONCAT_WS('-', 'a', NULL, 'b');

-- @concat_ws_columns
SELECT id, CONCAT_WS(' / ', name, city, email) FROM customers WHERE id BETWEEN 1 AND 6 ORDER BY id;

-- @substring_index
SELECT email, SUBSTRING_INDEX(email, '@', 1), SUBSTRING_INDEX(email, '@', -1) FROM customers WHERE email IS NOT NULL ORDER BY id LIMIT 4;

-- @substring_locate
SELECT sku, SUBSTRING(sku, 5), SUBSTRING(sku, 1, 3), LOCATE('-', sku), INSTR(sku, '0') FROM products ORDER BY id LIMIT 3;

-- @left_right_mid
SELECT LEFT(name, 3), RIGHT(name, 2), MID(sku, 2, 2) FROM customers JOIN products ON products.id = customers.id WHERE customers.id <= 3 ORDER BY customers.id;

-- @upper_lower_length
SELECT id, UPPER(name), LOWER(name), LENGTH(name), CHAR_LENGTH(name) FROM customers WHERE id IN (1, 3, 6, 9) ORDER BY id;

-- @lpad_rpad
SELECT LPAD(id, 6, '0'), RPAD(sku, 12, '.'), LPAD('abcdef', 3, '*') FROM products ORDER BY id LIMIT 3;

-- @replace_trim_reverse
SELECT REPLACE(sku, 'SKU', 'P'), TRIM('  x  '), REVERSE(sku) FROM products ORDER BY id LIMIT 2;

-- @regexp
SELECT COUNT(*) FROM customers WHERE name REGEXP '^customer [0-9]+5$';

-- @not_regexp
SELECT id FROM customers WHERE id < 12 AND name NOT REGEXP '^Customer' ORDER BY id;

-- @group_concat_order_sep
SELECT customer_id, GROUP_CONCAT(id ORDER BY id DESC SEPARATOR ';') FROM orders WHERE customer_id <= 4 GROUP BY customer_id ORDER BY customer_id;

-- @group_concat_distinct
SELECT GROUP_CONCAT(DISTINCT status ORDER BY status) FROM orders;

-- @group_concat_default
SELECT product_id, GROUP_CONCAT(quantity) FROM orders WHERE product_id = 1 AND id < 200 GROUP BY product_id;

-- @date_format
SELECT id, DATE_FORMAT(ordered_at, '%Y-%m-%d'), DATE_FORMAT(ordered_at, '%d/%m/%Y %H:%i:%s') FROM orders ORDER BY id LIMIT 3;

-- @date_format_names
SELECT DATE_FORMAT(created_at, '%W %M %e, %Y'), DATE_FORMAT(created_at, '%a %b %c %j') FROM customers ORDER BY id LIMIT 3;

-- @year_month_day
SELECT YEAR(ordered_at), MONTH(ordered_at), DAY(ordered_at), COUNT(*) FROM orders GROUP BY YEAR(ordered_at), MONTH(ordered_at), DAY(ordered_at) ORDER BY 1, 2, 3 LIMIT 5;

-- @hour_minute_quarter
SELECT HOUR(ordered_at), MINUTE(ordered_at), SECOND(ordered_at), QUARTER(ordered_at) FROM orders ORDER BY id LIMIT 3;

-- @dayofweek_weekday
SELECT DAYOFWEEK(ordered_at), WEEKDAY(ordered_at), DAYNAME(ordered_at), DAYOFYEAR(ordered_at) FROM orders ORDER BY id LIMIT 4;

-- @monthly_revenue
SELECT DATE_FORMAT(ordered_at, '%Y-%m') AS month, COUNT(*), SUM(amount) FROM orders WHERE status <> 'CANCELLED' GROUP BY DATE_FORMAT(ordered_at, '%Y-%m') ORDER BY month;

-- @date_add_interval
SELECT id, DATE_ADD(ordered_at, INTERVAL 7 DAY), DATE_ADD(ordered_at, INTERVAL 1 MONTH), DATE_SUB(ordered_at, INTERVAL 2 HOUR) FROM orders ORDER BY id LIMIT 3;

-- @interval_plus
SELECT created_at + INTERVAL 1 YEAR, created_at - INTERVAL 30 MINUTE FROM customers ORDER BY id LIMIT 2;

-- @month_end_clamp
SELECT DATE_ADD('2024-01-31', INTERVAL 1 MONTH), DATE_ADD('2023-01-31', INTERVAL 1 MONTH), DATE_SUB('2024-03-31', INTERVAL 1 MONTH);

-- @now_relative
SELECT COUNT(*) FROM orders WHERE ordered_at >= DATE_SUB(NOW(), INTERVAL 90 DAY);

-- @curdate_datediff
SELECT id, DATEDIFF(CURDATE(), ordered_at) FROM orders ORDER BY id LIMIT 3;

-- @now_value
SELECT NOW(), CURDATE(), CURRENT_TIMESTAMP, UNIX_TIMESTAMP();

-- @timestampdiff
SELECT o.id, TIMESTAMPDIFF(DAY, c.created_at, o.ordered_at), TIMESTAMPDIFF(MONTH, c.created_at, o.ordered_at), TIMESTAMPDIFF(HOUR, o.ordered_at, '2024-12-01 00:00:00') FROM orders o JOIN customers c ON c.id = o.customer_id ORDER BY o.id LIMIT 4;

-- @unix_timestamp_roundtrip
SELECT UNIX_TIMESTAMP(ordered_at), FROM_UNIXTIME(UNIX_TIMESTAMP(ordered_at) + 3600) FROM orders ORDER BY id LIMIT 2;

-- @from_unixtime_format
SELECT FROM_UNIXTIME(1700000000), FROM_UNIXTIME(1700000000, '%Y-%m-%d');

-- @last_day_str_to_date
SELECT LAST_DAY('2024-02-10'), STR_TO_DATE('31/12/2023', '%d/%m/%Y'), DATE('2024-05-06 07:08:09');

-- @date_compare_string
SELECT COUNT(*) FROM orders WHERE ordered_at BETWEEN '2024-03-01' AND '2024-03-31 23:59:59';

-- @order_by_expression
SELECT id, amount FROM orders ORDER BY amount DESC, id ASC LIMIT 5;

-- @distinct_order
SELECT DISTINCT city FROM customers WHERE city IS NOT NULL ORDER BY city;

-- @having_alias
SELECT product_id, SUM(quantity) AS q FROM orders GROUP BY product_id HAVING q > 260 ORDER BY q DESC, product_id;

-- @city_distinct_customers
SELECT c.city, COUNT(DISTINCT o.customer_id) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.city ORDER BY c.city;

-- @order_desc_nulls
SELECT id, stock FROM products ORDER BY stock DESC, id LIMIT 12;

-- @string_date_compare
SELECT COUNT(*) FROM customers WHERE created_at > '2023-06-01' AND created_at < '2023-07-01 12:00';

-- @year_month_filter
SELECT COUNT(*), SUM(amount) FROM orders WHERE YEAR(ordered_at) = 2024 AND MONTH(ordered_at) IN (1, 2);

-- @like_suffix
SELECT id, email FROM customers WHERE email LIKE '%@example.com' ORDER BY id DESC LIMIT 3;

-- @unicode_left_upper
SELECT id, UPPER(LEFT(city, 1)), LOWER(city) FROM customers WHERE id IN (1, 3, 6, 9, 10) ORDER BY id;

-- @trim_variants
SELECT TRIM(BOTH 'x' FROM 'xxaxx'), TRIM(LEADING '0' FROM '007'), LTRIM('  a'), RTRIM('a  '), CONCAT('[', TRIM('  b  '), ']');

-- @conditional_ratio
SELECT ROUND(SUM(CASE WHEN status = 'PAID' THEN amount ELSE 0 END) / COUNT(*), 4) FROM orders;

-- @now_format
SELECT DATE_FORMAT(NOW(), '%Y-%m-%d %H:%i:%s'), DATE_FORMAT(CURDATE(), '%Y%m%d');

-- @week_functions
SELECT id, WEEK(ordered_at), WEEKOFYEAR(ordered_at) FROM orders ORDER BY id LIMIT 5;

-- @tax_round
SELECT id, ROUND(amount * 1.13, 2), TRUNCATE(amount * 0.9, 1) FROM orders ORDER BY id LIMIT 5;

-- @remark_not_empty
SELECT id, remark FROM orders WHERE remark IS NOT NULL AND remark <> '' ORDER BY id LIMIT 4;

-- @last_year_window
SELECT COUNT(*) FROM orders WHERE ordered_at >= CURDATE() - INTERVAL 1 YEAR;

-- @min_max_dates
SELECT MAX(ordered_at), MIN(ordered_at), MIN(created_at) FROM orders JOIN customers ON customers.id = orders.customer_id;

-- @hex_repeat_space
SELECT HEX(255), HEX('ab'), REPEAT('ab', 3), CONCAT('[', SPACE(2), ']');

-- @ifnull_sum_empty
SELECT IFNULL(SUM(amount), 0), COUNT(*) FROM orders WHERE id < 0;

-- @in_subquery_group
SELECT p.sku, t.n FROM products p JOIN (SELECT product_id, COUNT(*) AS n FROM orders GROUP BY product_id) t ON t.product_id = p.id WHERE p.price > 150 ORDER BY t.n DESC, p.sku LIMIT 5;

-- @avg_by_city
SELECT city, ROUND(AVG(o.amount), 2), MAX(o.amount) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE city IS NOT NULL GROUP BY city HAVING AVG(o.amount) > 0 ORDER BY city;

-- @boolean_expressions
SELECT id, quantity > 2, status = 'PAID' AND quantity = 5, NOT (quantity = 1) FROM orders ORDER BY id LIMIT 5;

-- @ntile_percent
SELECT id, NTILE(4) OVER (ORDER BY amount, id) FROM orders WHERE id <= 8 ORDER BY id;

-- @first_last_value
SELECT DISTINCT customer_id, FIRST_VALUE(id) OVER (PARTITION BY customer_id ORDER BY id) FROM orders WHERE customer_id <= 3 ORDER BY customer_id;

-- @cast_string_number
SELECT CAST('42abc' AS SIGNED), CAST('3.7' AS DECIMAL(5,1)), '10' + 5, CONCAT(1.50, '');

-- @insert_on_duplicate
INSERT INTO products (id, sku, title, price) VALUES (1, 'X', 'x', 1) ON DUPLICATE KEY UPDATE price = 2;
-- unsupported: ON DUPLICATE KEY UPDATE

-- @show_tables
SHOW TABLES;
-- unsupported: SHOW statement

-- @with_rollup
SELECT status, COUNT(*) FROM orders GROUP BY status WITH ROLLUP;
-- unsupported: WITH ROLLUP

-- @date_minus_date
SELECT o.id, ordered_at - created_at, DATE(ordered_at) - 1 FROM orders o JOIN customers c ON c.id = o.customer_id ORDER BY o.id LIMIT 3;

-- @hr_hired_by_year
-- database: hr
SELECT YEAR(hired_on) AS y, COUNT(*) FROM employees GROUP BY YEAR(hired_on) ORDER BY y;

-- @hr_date_add_on_date
-- database: hr
SELECT id, hired_on, DATE_ADD(hired_on, INTERVAL 90 DAY), hired_on + INTERVAL 1 YEAR, DATE_SUB(hired_on, INTERVAL 1 MONTH) FROM employees ORDER BY id LIMIT 4;

-- @hr_tenure
-- database: hr
SELECT id, DATEDIFF('2024-12-01', hired_on), TIMESTAMPDIFF(YEAR, hired_on, CURDATE()), TIMESTAMPDIFF(MONTH, hired_on, '2024-12-01') FROM employees ORDER BY id LIMIT 5;

-- @hr_department_payroll
-- database: hr
SELECT d.name, COUNT(DISTINCT e.id), SUM(s.gross), ROUND(AVG(s.bonus), 2), MAX(s.gross) FROM departments d JOIN employees e ON e.department_id = d.id JOIN salaries s ON s.employee_id = e.id GROUP BY d.id, d.name ORDER BY d.id;

-- @hr_top_paid_per_department
-- database: hr
SELECT department_id, full_name, total FROM (SELECT e.department_id, e.full_name, SUM(s.gross) AS total, RANK() OVER (PARTITION BY e.department_id ORDER BY SUM(s.gross) DESC, e.id) AS r FROM employees e JOIN salaries s ON s.employee_id = e.id GROUP BY e.id, e.department_id, e.full_name) t WHERE r = 1 ORDER BY department_id;

-- @hr_title_null_handling
-- database: hr
SELECT COALESCE(title, '(none)') AS t, COUNT(*) FROM employees GROUP BY COALESCE(title, '(none)') ORDER BY t;

-- @hr_phone_strings
-- database: hr
SELECT id, SUBSTRING_INDEX(phone, '-', 2), RIGHT(phone, 4), LENGTH(phone) FROM employees WHERE phone IS NOT NULL ORDER BY id LIMIT 4;

-- @hr_hired_month_names
-- database: hr
SELECT DATE_FORMAT(hired_on, '%M %Y'), DAYNAME(hired_on), LAST_DAY(hired_on), WEEKDAY(hired_on) FROM employees ORDER BY id LIMIT 4;

-- @hr_date_string_compare
-- database: hr
SELECT COUNT(*) FROM employees WHERE hired_on >= '2020-01-01' AND hired_on < '2021-01-01';

-- @hr_bonus_ratio
-- database: hr
SELECT period, ROUND(SUM(bonus) / SUM(gross) * 100, 3), COUNT(bonus), COUNT(*) FROM salaries GROUP BY period ORDER BY period;

-- @hr_date_plus_number
-- database: hr
SELECT id, hired_on + 1, hired_on - 1, id + 1 FROM employees ORDER BY id LIMIT 3;
