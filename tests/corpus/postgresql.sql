-- PostgreSQL-dialect conformance corpus over fixtures/databases/shop.pg.sql (same format as
-- mysql.sql). now() is the server's transaction time; the embedded engine's clock is set to it.

-- @select_limit_offset
SELECT id, name, email FROM public.customers ORDER BY id LIMIT 4 OFFSET 2;

-- @fetch_first
SELECT id FROM orders ORDER BY id DESC FETCH FIRST 3 ROWS ONLY;

-- @cast_int_colon
SELECT id, price, price::int, CAST(price AS integer) FROM products ORDER BY id LIMIT 5;

-- @cast_numeric_scale
SELECT 8::numeric(10,2), price::numeric(10,1) FROM products WHERE id = 1;

-- @cast_text_date
SELECT id::text, ordered_at::date FROM orders ORDER BY id LIMIT 3;

-- @like_case_sensitive
SELECT COUNT(*) FROM orders WHERE status LIKE 'pa%';

-- @ilike
SELECT COUNT(*) FROM orders WHERE status ILIKE 'pa%';

-- @regex_match
SELECT COUNT(*) FROM customers WHERE name ~ '^Customer [0-9]+5$';

-- @regex_imatch
SELECT COUNT(*) FROM customers WHERE name ~* '^customer 1';

-- @string_agg_order
SELECT customer_id, string_agg(id::text, ';' ORDER BY id DESC) FROM orders WHERE customer_id <= 4 GROUP BY customer_id ORDER BY customer_id;

-- @string_agg_distinct
SELECT string_agg(DISTINCT status, ',' ORDER BY status) FROM orders;

-- @date_trunc_month
SELECT date_trunc('month', ordered_at) AS m, COUNT(*) FROM orders GROUP BY 1 ORDER BY 1 LIMIT 4;

-- @to_char
SELECT to_char(ordered_at, 'YYYY-MM-DD HH24:MI:SS'), to_char(ordered_at, 'DD/MM/YY') FROM orders ORDER BY id LIMIT 3;

-- @extract
SELECT EXTRACT(YEAR FROM ordered_at), EXTRACT(MONTH FROM ordered_at), EXTRACT(DOW FROM ordered_at), EXTRACT(DOY FROM ordered_at) FROM orders ORDER BY id LIMIT 3;

-- @interval_arith
SELECT ordered_at + interval '1 day', ordered_at - interval '2 hours', ordered_at + interval '1 month' FROM orders ORDER BY id LIMIT 3;

-- @now_relative
SELECT COUNT(*) FROM orders WHERE ordered_at >= now() - interval '400 days';

-- @current_date
SELECT current_date = now()::date;

-- @generate_series
SELECT g, g * g FROM generate_series(1, 5) AS g ORDER BY g;

-- @generate_series_join
SELECT s.n, COUNT(o.id) FROM generate_series(1, 5) AS s(n) LEFT JOIN orders o ON o.quantity = s.n GROUP BY s.n ORDER BY s.n;

-- @concat_functions
SELECT concat(name, '/', city), concat_ws('-', name, city, email), name || ' x' FROM customers WHERE id IN (3, 4, 7) ORDER BY id;

-- @split_part_position
SELECT split_part(email, '@', 2), position('@' in email), substring(email from 1 for 5) FROM customers WHERE email IS NOT NULL ORDER BY id LIMIT 3;

-- @lpad_rpad_length
SELECT lpad(id::text, 5, '0'), rpad(sku, 10, '*'), length(title), upper(sku), lower(title) FROM products ORDER BY id LIMIT 3;

-- @coalesce_nullif_greatest
SELECT id, coalesce(stock, -1), nullif(stock, 90), greatest(stock, 100), least(stock, 100) FROM products WHERE id BETWEEN 8 AND 10 ORDER BY id;

-- @integer_division
SELECT quantity / 2, quantity % 2, amount / quantity FROM orders ORDER BY id LIMIT 4;

-- @round_numeric
SELECT round(avg(amount), 2), round(sum(amount), 1), trunc(max(amount)) FROM orders;

-- @group_by_having
SELECT status, count(*) AS n, sum(amount) FROM orders GROUP BY status HAVING count(*) > 100 ORDER BY n DESC, status;

-- @filter_clause
SELECT count(*) FILTER (WHERE status = 'PAID'), count(*) FILTER (WHERE quantity > 3) FROM orders;

-- @window_functions
SELECT id, customer_id, row_number() OVER (PARTITION BY customer_id ORDER BY id), sum(amount) OVER (PARTITION BY customer_id ORDER BY id) FROM orders WHERE customer_id <= 3 ORDER BY customer_id, id;

-- @cte_join
WITH top AS (SELECT product_id, sum(quantity) AS q FROM orders GROUP BY product_id ORDER BY q DESC, product_id LIMIT 3) SELECT p.sku, top.q FROM top JOIN products p ON p.id = top.product_id ORDER BY top.q DESC, p.sku;

-- @case_boolean
SELECT id, CASE WHEN stock IS NULL THEN 'untracked' WHEN stock > 300 THEN 'plenty' ELSE 'some' END FROM products ORDER BY id LIMIT 10;

-- @distinct_on
SELECT DISTINCT ON (customer_id) customer_id, id FROM orders ORDER BY customer_id, id DESC;
-- unsupported: DISTINCT ON

-- @system_catalog
SELECT table_name FROM information_schema.tables;
-- unsupported: system catalog information_schema

-- @date_minus_date
SELECT id, ordered_at::date - '2024-01-01'::date, ordered_at::date - 7 FROM orders ORDER BY id LIMIT 3;

-- @timestamp_minus_timestamp
SELECT ordered_at - ordered_at FROM orders ORDER BY id LIMIT 1;
-- unsupported: timestamp - timestamp

-- @order_nulls_default
SELECT id, stock FROM products ORDER BY stock, id LIMIT 12;

-- @order_nulls_desc
SELECT id, stock FROM products ORDER BY stock DESC, id LIMIT 8;

-- @order_nulls_explicit
SELECT id, stock FROM products ORDER BY stock NULLS FIRST, id LIMIT 8;

-- @is_distinct_from
SELECT count(*) FROM customers WHERE city IS DISTINCT FROM 'Berlin';

-- @coalesce_sum_empty
SELECT coalesce(sum(amount), 0), count(*) FROM orders WHERE id < 0;

-- @in_list_any
SELECT count(*) FROM orders WHERE quantity = ANY (ARRAY[1, 3]);

-- @boolean_result
SELECT id, quantity > 2, status = 'PAID' AND quantity = 5 FROM orders ORDER BY id LIMIT 5;

-- @between_dates
SELECT count(*) FROM orders WHERE ordered_at BETWEEN '2024-03-01' AND '2024-03-31 23:59:59';

-- @left_right_initcap
SELECT left(sku, 3), right(sku, 2), initcap('hello world'), reverse(sku) FROM products ORDER BY id LIMIT 2;

-- @union_except
SELECT customer_id FROM orders WHERE quantity = 5 EXCEPT SELECT customer_id FROM orders WHERE quantity = 1 ORDER BY 1 LIMIT 5;

-- @lateral_free_subquery
SELECT c.id, (SELECT max(o.amount) FROM orders o WHERE o.customer_id = c.id) FROM customers c ORDER BY c.id LIMIT 5;

-- @hr_hired_by_year
-- database: hr
SELECT extract(year from hired_on) AS y, count(*) FROM employees GROUP BY 1 ORDER BY 1;

-- @hr_date_arith
-- database: hr
SELECT id, hired_on + 30, hired_on + interval '1 month', date '2024-12-01' - hired_on FROM employees ORDER BY id LIMIT 4;

-- @hr_department_payroll
-- database: hr
SELECT d.name, count(DISTINCT e.id), sum(s.gross), round(avg(s.bonus), 2) FROM departments d JOIN employees e ON e.department_id = d.id JOIN salaries s ON s.employee_id = e.id GROUP BY d.id, d.name ORDER BY d.id;

-- @hr_title_nulls_last
-- database: hr
SELECT title, count(*) FROM employees GROUP BY title ORDER BY title;

-- @hr_to_char_dates
-- database: hr
SELECT to_char(hired_on, 'YYYY/MM/DD'), date_trunc('year', hired_on)::date FROM employees ORDER BY id LIMIT 3;
