-- Row level security on, no policy: every role but the owner reads no cart and writes none.
ALTER TABLE carts ENABLE ROW LEVEL SECURITY;
